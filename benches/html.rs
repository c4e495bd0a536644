//! Throughput of `text::note_text` (HTML → plain text) against the ≥ 20 MB/s budget in
//! DESIGN.md: a corpus of everyday notes, and one large HTML note.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crm_notes::text::note_text;

const SENTENCES: &[&str] = &[
    "Called about the renewal, they want a quote by Monday.",
    "Trial extended by two weeks; Sara will follow up.",
    "Budget approved for Q3 — waiting on legal to sign off.",
    "Asked for SSO & audit logs before they roll out to 40 seats.",
    "Café owner prefers calls after 3 pm, never before lunch.",
    "Complained that invoice #1042 was charged twice.",
    "Wants to downgrade to the starter plan if usage stays < 10 users.",
    "Démo prévue jeudi avec l’équipe financière.",
];

/// One note of 200 B–4 KB in one of the shapes CRM notes arrive in, and whether it has markup.
fn note(rng: &mut fastrand::Rng) -> (String, bool) {
    let target = rng.usize(200..4096);
    let shape = rng.u8(0..5);
    let mut out = String::new();
    let mut item = 0;
    while out.len() < target {
        let s = SENTENCES[rng.usize(..SENTENCES.len())];
        item += 1;
        match shape {
            // Plain text typed into a textarea.
            0 | 1 => {
                out.push_str(s);
                out.push(if item % 3 == 0 { '\n' } else { ' ' });
            }
            // Textarea content turned into HTML with `<br>` and entities.
            2 => {
                out.push_str(&s.replace('&', "&amp;").replace('<', "&lt;"));
                out.push_str(if item % 3 == 0 { "<br>\n" } else { "&nbsp; " });
            }
            // Rich-text editor output: paragraphs, emphasis, links.
            3 => {
                out.push_str("<p>");
                out.push_str(&s.replace('&', "&amp;").replace('<', "&lt;"));
                out.push_str(" See <a href=\"https://crm.example.com/deals/");
                out.push_str(&item.to_string());
                out.push_str("\">the deal</a> and <strong>call back</strong>.</p>\n");
            }
            // Lists.
            _ => {
                out.push_str("<ul>\n  <li>");
                out.push_str(&s.replace('&', "&amp;").replace('<', "&lt;"));
                out.push_str("</li>\n  <li>Next step &#8217;s owner: <em>Adam</em></li>\n</ul>\n");
            }
        }
    }
    (out, shape >= 2)
}

fn corpus() -> Vec<(String, bool)> {
    let mut rng = fastrand::Rng::with_seed(7);
    (0..300).map(|_| note(&mut rng)).collect()
}

/// A ~200 KB note as a rich-text editor would store it.
fn large_note() -> String {
    let mut out = String::from("<div>");
    let mut i = 0;
    while out.len() < 200 * 1024 {
        let s = SENTENCES[i % SENTENCES.len()]
            .replace('&', "&amp;")
            .replace('<', "&lt;");
        out.push_str(&format!(
            "<h3>Call {i}</h3>\n<p>{s} <b>Owner:</b> Sara&nbsp;Lee. \
             <a href=\"https://crm.example.com/c/{i}\">Open</a></p>\n\
             <ol><li>{s}</li><li>Send quote &amp; follow up<br>by Friday</li></ol>\n"
        ));
        i += 1;
    }
    out.push_str("</div>");
    out
}

fn bench_note_text(c: &mut Criterion) {
    let mut group = c.benchmark_group("note_text");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let notes = corpus();
    let bytes: usize = notes.iter().map(|(n, _)| n.len()).sum();
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("corpus_200B_4KB", |b| {
        b.iter(|| {
            for (n, _) in &notes {
                black_box(note_text(black_box(n)));
            }
        })
    });

    let plain: Vec<&String> = notes.iter().filter(|(_, m)| !m).map(|(n, _)| n).collect();
    let plain_bytes: usize = plain.iter().map(|n| n.len()).sum();
    group.throughput(Throughput::Bytes(plain_bytes as u64));
    group.bench_function("corpus_plain_only", |b| {
        b.iter(|| {
            for n in &plain {
                black_box(note_text(black_box(n)));
            }
        })
    });

    let html: Vec<&String> = notes.iter().filter(|(_, m)| *m).map(|(n, _)| n).collect();
    let html_bytes: usize = html.iter().map(|n| n.len()).sum();
    group.throughput(Throughput::Bytes(html_bytes as u64));
    group.bench_function("corpus_html_only", |b| {
        b.iter(|| {
            for n in &html {
                black_box(note_text(black_box(n)));
            }
        })
    });

    let large = large_note();
    group.throughput(Throughput::Bytes(large.len() as u64));
    group.bench_function("large_200KB", |b| {
        b.iter(|| black_box(note_text(black_box(&large))))
    });

    group.finish();
}

criterion_group!(benches, bench_note_text);
criterion_main!(benches);
