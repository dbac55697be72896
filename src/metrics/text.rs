//! Prometheus' text exposition format (version 0.0.4): each family's `# HELP` and `# TYPE` lines
//! followed by all of its samples, label values escaped, numbers as Go's `ParseFloat` reads them.

use std::fmt::Write;

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What kind of family a metric is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// The exposition being written.
#[derive(Default)]
pub struct Text {
    out: String,
}

impl Text {
    /// Starts a family: its help and type. Every sample of it must follow before the next.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
    }

    /// One sample: `name{labels} value`.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (key, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(key);
                self.out.push_str("=\"");
                escape_into(&mut self.out, value);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        self.out.push_str(&number(value));
        self.out.push('\n');
    }

    /// Adds another exposition's families after this one's.
    pub fn append(&mut self, other: Text) {
        self.out.push_str(&other.out);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// A label value as the format quotes it: backslash, double quote and line feed escaped.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A sample value: integers without a fraction, `+Inf`, `-Inf`, `NaN` as the format spells them.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        // Rust writes no exponent and the shortest digits that read back as the same number.
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_read_back() {
        let mut t = Text::default();
        t.family("x_total", Kind::Counter, "A help with a \\ and a\nline.");
        t.sample("x_total", &[("a", "q\"b\\s\nn"), ("b", "plain")], 3.0);
        let text = t.finish();
        assert!(text.contains("# HELP x_total A help with a \\\\ and a\\nline.\n"));
        assert!(text.contains("x_total{a=\"q\\\"b\\\\s\\nn\",b=\"plain\"} 3\n"));
        let scrape =
            prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
        assert_eq!(scrape.samples.len(), 1);
        assert_eq!(scrape.samples[0].labels.get("b"), Some("plain"));
    }

    #[test]
    fn numbers_are_written_as_the_format_reads_them() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.001), "0.001");
        assert_eq!(number(1e-7), "0.0000001");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(12.5), "12.5");
    }
}
