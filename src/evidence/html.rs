//! The report's HTML, by hand: escaping ([`esc`]), the frame every page shares ([`page`]) with
//! its navigation and its one inline style sheet, and the links between paged lists
//! ([`pager`]). Pages load nothing: no script, no font, no style sheet or image from anywhere,
//! so the site opens from disk, offline, and prints to PDF as it shows.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Text made safe for HTML element content and quoted attribute values.
pub fn esc(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Marks an earmark report's pages, so that a report is replaced only over an earlier one.
pub const GENERATOR: &str = "earmark report";

/// The sections every page links to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Tracks,
    Clean,
    Failed,
}

const STYLE: &str = "\
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#222;margin:0}\
header{background:#16324f;color:#fff;padding:.6em 1.2em}header a{color:#fff;margin-right:1.2em}\
header a.here{font-weight:bold;text-decoration:none}\
main{max-width:1100px;margin:0 auto;padding:1em 1.2em 3em}\
h1{font-size:1.6em;margin:.4em 0}h2{font-size:1.25em;margin:1.6em 0 .4em}h3{font-size:1.1em;margin:.2em 0}\
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}\
th,td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}\
th{background:#f3f5f7}td.n{text-align:right;font-variant-numeric:tabular-nums}\
code,.hash{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}\
section.claim{border:1px solid #ccd3da;border-radius:6px;padding:.8em 1em;margin:1.4em 0;break-inside:avoid}\
.detail{display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start}\
figure{margin:.4em 0}figure.alignment{flex:0 1 480px}table.facts{flex:1 1 320px}td code{white-space:nowrap}\
figure svg{width:100%;height:auto;display:block}figcaption{font-size:.85em;color:#555}\
p.evidence{background:#f6f8fa;border-left:4px solid #1f5fa8;padding:.5em .8em}\
.pages a,.pages b{margin-right:.5em}.muted{color:#666}\
@media print{header{display:none}main{max-width:none;padding:0}section.claim{page-break-inside:avoid}a{color:inherit;text-decoration:none}}";

/// A whole page: `title`, the navigation with `here` marked, and `body`.
pub fn page(title: &str, here: Nav, body: &str) -> String {
    let mut html = String::with_capacity(body.len() + STYLE.len() + 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"generator\" content=\"{GENERATOR} {}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>",
        env!("CARGO_PKG_VERSION"),
        esc(title)
    );
    for (nav, href, name) in [
        (Nav::Overview, "index.html", "Overview"),
        (Nav::Tracks, "tracks.html", "Tracks claimed"),
        (Nav::Clean, "clean.html", "Clean items"),
        (Nav::Failed, "failed.html", "Items not scanned"),
    ] {
        let class = if nav == here { " class=\"here\"" } else { "" };
        let _ = write!(html, "<a href=\"{href}\"{class}>{name}</a>");
    }
    html.push_str("</header>\n<main>\n");
    html.push_str(body);
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

/// The name of page `n` (1-based) of a list whose first page is `stem.html`: `stem-n.html`.
pub fn page_name(stem: &str, n: usize) -> String {
    if n <= 1 {
        format!("{stem}.html")
    } else {
        format!("{stem}-{n}.html")
    }
}

/// Links to the pages of a list around page `n` of `pages`: the first, the last, the previous,
/// the next and a few either side, so that the links stay few however long the list.
pub fn pager(stem: &str, n: usize, pages: usize) -> String {
    if pages <= 1 {
        return String::new();
    }
    let mut html = String::from("<p class=\"pages\">Pages: ");
    let link = |html: &mut String, k: usize, text: &str| {
        if k == n {
            let _ = write!(html, "<b>{text}</b>");
        } else {
            let _ = write!(html, "<a href=\"{}\">{text}</a>", page_name(stem, k));
        }
    };
    if n > 1 {
        link(&mut html, n - 1, "‹ previous");
    }
    let mut last = 0;
    for k in 1..=pages {
        let near = k.abs_diff(n) <= 3;
        if k == 1 || k == pages || near {
            if last + 1 < k {
                html.push_str("… ");
            }
            link(&mut html, k, &k.to_string());
            last = k;
        }
    }
    if n < pages {
        link(&mut html, n + 1, "next ›");
    }
    html.push_str("</p>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_records_cannot_become_markup() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert!(matches!(esc("plain.mp3"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_pager_links_a_bounded_number_of_pages() {
        assert_eq!(pager("clean", 1, 1), "");
        let p = pager("track-3", 50, 4000);
        for k in [1, 47, 49, 51, 53, 4000] {
            assert!(
                p.contains(&format!("\"{}\"", page_name("track-3", k))),
                "{k}: {p}"
            );
        }
        assert!(
            p.contains("<b>50</b>") && !p.contains("track-3-100.html"),
            "{p}"
        );
        assert_eq!(p.matches("<a ").count(), 2 + 2 + 6);
        assert_eq!(page_name("clean", 1), "clean.html");
        assert_eq!(page_name("clean", 2), "clean-2.html");
    }
}
