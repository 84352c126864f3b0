//! The provenance badge: a shields.io endpoint JSON (public repositories) and a
//! self-contained SVG (private repositories, where shields.io cannot fetch the JSON).
//!
//! Message: `passing 98%` when the success rate is at or above the warning rate, `failing
//! 72%` below it, `no runs` without runs. The percentage is rounded down, so 99.9% never shows
//! as 100%. Colour: brightgreen at or above the success-rate target, yellow from the warning
//! rate, red below, lightgrey without runs.

use super::escape_xml;
use crate::domain::kpi::{Kpis, Targets};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    pub label: String,
    pub message: String,
    /// A shields.io colour name.
    pub color: &'static str,
}

pub const DEFAULT_LABEL: &str = "provenance";

pub fn badge(k: &Kpis, t: &Targets, label: &str) -> Badge {
    let (message, color) = match k.success_rate.value() {
        None => ("no runs".to_string(), "lightgrey"),
        Some(rate) => {
            let pct = ((rate * 100.0) + 1e-9).floor() as u64;
            if rate + 1e-9 >= t.success_rate {
                (format!("passing {pct}%"), "brightgreen")
            } else if rate + 1e-9 >= t.badge_warn_rate {
                (format!("passing {pct}%"), "yellow")
            } else {
                (format!("failing {pct}%"), "red")
            }
        }
    };
    Badge {
        label: label.to_string(),
        message,
        color,
    }
}

/// The shields.io endpoint document (`https://img.shields.io/endpoint?url=...`).
pub fn endpoint_json(b: &Badge) -> String {
    let v = serde_json::json!({
        "schemaVersion": 1,
        "label": b.label,
        "message": b.message,
        "color": b.color,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

fn hex(color: &str) -> &'static str {
    match color {
        "brightgreen" => "#4c1",
        "yellow" => "#dfb317",
        "red" => "#e05d44",
        _ => "#9f9f9f",
    }
}

/// Approximate width of text in 11px Verdana (shields.io's font), in pixels.
fn text_width(s: &str) -> u32 {
    s.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '!' | '|' | '\'' => 4,
            ' ' | 'f' | 'r' | 't' | 'I' => 5,
            'm' | 'w' | 'M' | 'W' | '%' => 10,
            c if c.is_ascii_uppercase() => 8,
            _ => 7,
        })
        .sum()
}

/// A flat badge like shields.io's, with no external reference (fonts fall back locally).
pub fn svg(b: &Badge) -> String {
    let (label, message) = (escape_xml(&b.label), escape_xml(&b.message));
    let lw = text_width(&b.label) + 10;
    let mw = text_width(&b.message) + 10;
    let w = lw + mw;
    let color = hex(b.color);
    let (lx, mx) = (lw * 10 / 2, lw * 10 + mw * 10 / 2);
    let (ltl, mtl) = ((lw - 10) * 10, (mw - 10) * 10);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{label}: {message}">
<title>{label}: {message}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{mw}" height="20" fill="{color}"/><rect width="{w}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="110">
<text aria-hidden="true" x="{lx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="{ltl}">{label}</text>
<text x="{lx}" y="140" transform="scale(.1)" fill="#fff" textLength="{ltl}">{label}</text>
<text aria-hidden="true" x="{mx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="{mtl}">{message}</text>
<text x="{mx}" y="140" transform="scale(.1)" fill="#fff" textLength="{mtl}">{message}</text>
</g>
</svg>
"##
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kpi::Ratio;

    fn kpis(num: u64, den: u64) -> Kpis {
        Kpis {
            success_rate: Ratio { num, den },
            ..Kpis::default()
        }
    }

    #[test]
    fn message_and_colour_by_threshold() {
        let t = Targets::default();
        let b = |n, d| {
            let b = badge(&kpis(n, d), &t, "provenance");
            (b.message, b.color)
        };
        assert_eq!(b(0, 0), ("no runs".into(), "lightgrey"));
        assert_eq!(b(10, 10), ("passing 100%".into(), "brightgreen"));
        assert_eq!(b(49, 50), ("passing 98%".into(), "yellow"));
        assert_eq!(
            b(999, 1000),
            ("passing 99%".into(), "yellow"),
            "rounded down"
        );
        assert_eq!(b(9, 10), ("passing 90%".into(), "yellow"));
        assert_eq!(b(18, 25), ("failing 72%".into(), "red"));
    }

    #[test]
    fn badges_snapshot() {
        let b = badge(&kpis(49, 50), &Targets::default(), "SLSA <provenance>");
        let json: serde_json::Value = serde_json::from_str(&endpoint_json(&b)).expect("json");
        assert_eq!(json["schemaVersion"], 1);
        insta::assert_snapshot!("badge_json", endpoint_json(&b));
        let s = svg(&b);
        assert!(!s.contains("<provenance>"), "label is escaped");
        assert!(!s.contains("href"), "self-contained");
        insta::assert_snapshot!("badge_svg", s);
    }
}
