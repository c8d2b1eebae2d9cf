//! Delimited text as metadata files ship it: [`Records`] reads CSV (RFC 4180: quoted fields,
//! doubled quotes, line breaks inside quotes) or TSV (tabs, no quoting, as MTG-Jamendo writes
//! it), with LF or CRLF line ends, one record at a time.

use std::io::BufRead;

/// How fields are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// Commas, with quoting.
    Comma,
    /// Tabs, without quoting.
    Tab,
}

impl Delimiter {
    /// A `.tsv` or `.tab` name, else the first line's tabs against its commas.
    pub fn guess(name: &str, first_line: &str) -> Delimiter {
        let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        match ext.as_str() {
            "tsv" | "tab" => Delimiter::Tab,
            "csv" => Delimiter::Comma,
            _ if first_line.matches('\t').count() > first_line.matches(',').count() => {
                Delimiter::Tab
            }
            _ => Delimiter::Comma,
        }
    }
}

/// The records of a delimited text, each a list of fields.
pub struct Records<R> {
    input: R,
    delimiter: Delimiter,
    line: String,
}

impl<R: BufRead> Records<R> {
    pub fn new(input: R, delimiter: Delimiter) -> Self {
        Records {
            input,
            delimiter,
            line: String::new(),
        }
    }

    fn next_line(&mut self) -> std::io::Result<bool> {
        self.line.clear();
        Ok(self.input.read_line(&mut self.line)? > 0)
    }

    /// The next record, `None` at the end; a line break inside quotes continues the field.
    pub fn next_record(&mut self) -> std::io::Result<Option<Vec<String>>> {
        if !self.next_line()? {
            return Ok(None);
        }
        if self.delimiter == Delimiter::Tab {
            let line = self.line.trim_end_matches(['\n', '\r']);
            return Ok(Some(line.split('\t').map(str::to_string).collect()));
        }
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        loop {
            let mut chars = self.line.chars().peekable();
            while let Some(c) = chars.next() {
                match (quoted, c) {
                    (true, '"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    (true, '"') => quoted = false,
                    (true, c) => field.push(c),
                    (false, '"') if field.is_empty() => quoted = true,
                    (false, ',') => fields.push(std::mem::take(&mut field)),
                    (false, '\n' | '\r') => {}
                    (false, c) => field.push(c),
                }
            }
            if !quoted || !self.next_line()? {
                break;
            }
        }
        fields.push(field);
        Ok(Some(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str, d: Delimiter) -> Vec<Vec<String>> {
        let mut r = Records::new(text.as_bytes(), d);
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            out.push(rec);
        }
        out
    }

    #[test]
    fn quoted_fields_hold_commas_quotes_and_line_breaks() {
        let got = all(
            "a,\"b, c\",\"say \"\"hi\"\"\"\r\n1,\"two\nlines\",\r\n",
            Delimiter::Comma,
        );
        assert_eq!(
            got,
            [vec!["a", "b, c", "say \"hi\""], vec!["1", "two\nlines", ""]]
        );
    }

    #[test]
    fn tabs_split_without_quoting_and_crlf_is_dropped() {
        let got = all(
            "TRACK_ID\tTAGS\r\ntrack_1\t\"x\"\tgenre---rock\r\n",
            Delimiter::Tab,
        );
        assert_eq!(
            got,
            [
                vec!["TRACK_ID", "TAGS"],
                vec!["track_1", "\"x\"", "genre---rock"]
            ]
        );
        assert_eq!(Delimiter::guess("raw.meta.tsv", "a,b"), Delimiter::Tab);
        assert_eq!(Delimiter::guess("ids", "path\tisrc"), Delimiter::Tab);
        assert_eq!(Delimiter::guess("ids.txt", "path,isrc"), Delimiter::Comma);
    }
}
