//! Per-stage benchmarks on a real 10 s, 128 kbit/s stereo MP3 (testdata/dump/clip-mp3.mp3):
//! symphonia decoding alone against the whole pipeline, and each stage on its own.
//! `cargo bench --bench pipeline`; x real time = 10 s / time per iteration.

use criterion::{Criterion, criterion_group, criterion_main};
use earmark::audio::{self, resample::MonoResampler};
use earmark::fingerprint::{Density, Fingerprinter, fingerprint};
use earmark::matcher::Matcher;
use earmark::{Limits, QueryParams};

mod common;

use common::{CLIP, catalogue_index, decode_only, identify};

fn stages(c: &mut Criterion) {
    let bytes = std::fs::read(CLIP).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let index = catalogue_index(dir.path());
    let params = *index.params();
    let query = QueryParams::default();
    let limits = Limits::default();
    let (samples, _) = audio::decode_to_vec(&bytes, None, params.sample_rate, &limits).unwrap();
    let mut f = Fingerprinter::new(&params, Density::query(&query)).keeping_peaks();
    f.push(&samples);
    let (landmarks, peaks, _) = f.finish_with_peaks();

    let mut g = c.benchmark_group("mp3_128k_10s");
    g.sample_size(20);
    g.bench_function("decode_only", |b| b.iter(|| decode_only(&bytes)));
    g.bench_function("decode_downmix_resample", |b| {
        b.iter(|| {
            audio::decode_to_vec(&bytes, None, params.sample_rate, &limits)
                .unwrap()
                .0
                .len()
        })
    });
    g.bench_function("whole_pipeline", |b| {
        b.iter(|| {
            assert_eq!(identify(&index, &bytes), 1);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("stage_10s");
    let raw: Vec<f32> = (0..441_000).map(|i| (i as f32 * 0.01).sin()).collect();
    g.bench_function("resample_44k1_to_8k", |b| {
        b.iter(|| {
            let mut r = MonoResampler::new(8000);
            let mut n = 0;
            r.push(44100, &raw, &mut |s| n += s.len()).unwrap();
            r.finish(&mut |s| n += s.len());
            n
        })
    });
    g.bench_function("fingerprint_query_density", |b| {
        b.iter(|| fingerprint(&samples, &params, Density::query(&query)).len())
    });
    g.bench_function("fingerprint_index_density", |b| {
        b.iter(|| fingerprint(&samples, &params, Density::index(&params)).len())
    });
    g.bench_function("lookup_and_match", |b| {
        b.iter(|| {
            let mut m = Matcher::new(&index, query);
            m.add(landmarks.iter().copied());
            m.add_peaks(peaks.iter().copied());
            m.finish().len()
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
