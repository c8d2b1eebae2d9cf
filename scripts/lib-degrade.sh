# Shared by the benchmark scripts (sourced): measuring and mixing audio for degraded queries.
# Needs sox. The caller sets `rate` (Hz) and runs sox repeatably (SOX_OPTS=-R).

rms_db() { sox "$1" -n stats 2>&1 | awk '/^RMS lev dB/ { print $4 }'; }

mix() { # music.wav other.wav level_db dst: adds `other` at level_db relative to the music's RMS
  local m o
  m=$(rms_db "$1"); o=$(rms_db "$2")
  # Refuse (near-)silent excerpts: an SNR relative to silence means nothing.
  awk -v m="$m" -v o="$o" 'BEGIN { exit !(m + 0 > -60 && o + 0 > -90) }' || {
    echo "silent excerpt ($m dB)" >&2; return 1; }
  # Both inputs are scaled so that their sum cannot clip, then the mix is normalised.
  read -r a b < <(awk -v m="$m" -v o="$o" -v l="$3" \
    'BEGIN { g = 10 ^ ((m + l - o) / 20); printf "%.6f %.6f\n", 1 / (1 + g), g / (1 + g) }')
  sox -m -v "$a" "$1" -v "$b" "$2" "$4" gain -n -1
}
