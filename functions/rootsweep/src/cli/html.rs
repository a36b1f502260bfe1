//! The evidence as one self-contained HTML page for auditors and managers: inline CSS and SVG,
//! no script, nothing fetched when it is opened. Every figure also carries its raw value in a
//! `data-` attribute, the same as the JSON evidence's, so that a browser can check the page.

use std::fmt::Write as _;
use std::io::{self, Write};

use chrono::{TimeDelta, Utc};

use crate::evidence::{AccountEvidence, Evidence, RunEvidence};

/// The chart's plot area, in SVG user units.
const PLOT_WIDTH: u32 = 720;
const PLOT_HEIGHT: u32 = 180;
/// Room left of the plot for the scale, and under it for the dates.
const MARGIN_LEFT: u32 = 40;
const MARGIN_BOTTOM: u32 = 24;

const STYLE: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1c2430;margin:2rem auto;max-width:1000px;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .2rem}h2{font-size:1.1rem;margin:2rem 0 .6rem;border-bottom:1px solid #d8dee6;padding-bottom:.2rem}
.sub{color:#5a6678;margin:0}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}
.card{border:1px solid #d8dee6;border-radius:6px;padding:.6rem .9rem;min-width:9rem}
.card b{display:block;font-size:1.6rem}.card span{color:#5a6678}
.bad b{color:#b3261e}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e6eaf0}
th{background:#f3f5f8;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.past td{background:#fdf0ef}
.tag{border-radius:3px;padding:0 .35rem;font-size:.85em;background:#e6eaf0}.tag.alert{background:#b3261e;color:#fff}
svg text{font:11px system-ui,sans-serif;fill:#5a6678}
.bar{fill:#b3261e}.bar.partial{fill:#e8a29c}
.note{color:#5a6678;font-size:.9em}";

/// Writes the page.
pub fn write(evidence: &Evidence, out: &mut impl Write) -> io::Result<()> {
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        page,
        "<title>rootsweep evidence since {}</title><style>{STYLE}</style></head><body>",
        evidence.since
    );
    let _ = write!(
        page,
        "<h1>Root credentials of the member accounts</h1><p class=\"sub\">rootsweep runs archived since {} (UTC), read {}.</p>",
        evidence.since,
        Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    coverage(&mut page, evidence);
    chart(&mut page, &evidence.run_list);
    exemptions(&mut page, evidence);
    accounts(&mut page, &evidence.accounts);
    page.push_str("</body></html>\n");
    out.write_all(page.as_bytes())
}

fn coverage(page: &mut String, evidence: &Evidence) {
    let past = evidence
        .accounts
        .iter()
        .filter(|a| a.runs_past_grace > 0)
        .count();
    let still = evidence
        .accounts
        .iter()
        .filter(|a| a.past_grace_at_end)
        .count();
    page.push_str("<h2>Coverage</h2><div class=\"cards\">");
    let cards = [
        ("runs", evidence.runs, "runs", false),
        (
            "incomplete_runs",
            evidence.incomplete_runs.len(),
            "incomplete runs",
            !evidence.incomplete_runs.is_empty(),
        ),
        (
            "accounts_audited",
            evidence.accounts_audited,
            "accounts audited",
            false,
        ),
        (
            "accounts_reported",
            evidence.accounts.len(),
            "accounts reported",
            false,
        ),
        ("accounts_past_grace", past, "ever past grace", past > 0),
        (
            "accounts_past_grace_at_end",
            still,
            "past grace at the last run",
            still > 0,
        ),
    ];
    for (figure, value, label, bad) in cards {
        let _ = write!(
            page,
            "<div class=\"card{}\"><b data-figure=\"{figure}\">{value}</b><span>{label}</span></div>",
            if bad { " bad" } else { "" }
        );
    }
    page.push_str("</div>");
    if !evidence.incomplete_runs.is_empty() {
        let _ = write!(
            page,
            "<p class=\"note\">Incomplete runs (the account listing broke off): {}.</p>",
            escape(&evidence.incomplete_runs.join(", "))
        );
    }
}

/// One bar per run: the accounts holding root credentials past their grace period.
fn chart(page: &mut String, runs: &[RunEvidence]) {
    page.push_str("<h2>Accounts holding root credentials past grace, run by run</h2>");
    if runs.is_empty() {
        page.push_str("<p class=\"note\">No run was archived in the period.</p>");
        return;
    }
    let top = runs
        .iter()
        .map(|r| r.accounts_past_grace)
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = f64::from(PLOT_WIDTH) / runs.len() as f64;
    let width = (slot * 0.8).max(1.0);
    let _ = write!(
        page,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" aria-label=\"Accounts past grace per run, at most {top}\">",
        w = MARGIN_LEFT + PLOT_WIDTH,
        h = PLOT_HEIGHT + MARGIN_BOTTOM,
    );
    let _ = write!(
        page,
        "<line x1=\"{MARGIN_LEFT}\" y1=\"{PLOT_HEIGHT}\" x2=\"{}\" y2=\"{PLOT_HEIGHT}\" stroke=\"#8a96a8\"/><text x=\"{}\" y=\"10\" text-anchor=\"end\">{top}</text><text x=\"{}\" y=\"{PLOT_HEIGHT}\" text-anchor=\"end\">0</text>",
        MARGIN_LEFT + PLOT_WIDTH,
        MARGIN_LEFT - 6,
        MARGIN_LEFT - 6,
    );
    for (i, run) in runs.iter().enumerate() {
        let height = (run.accounts_past_grace * PLOT_HEIGHT as usize).div_ceil(top);
        let x = f64::from(MARGIN_LEFT) + slot * i as f64 + (slot - width) / 2.0;
        let when = run.started_at.map_or("(no summary)".to_owned(), |t| {
            t.format("%Y-%m-%d %H:%M").to_string()
        });
        let partial = !(run.complete && run.whole_organization);
        let scope = match (partial, run.listing_reused_from) {
            (true, _) => " (not a complete run over the whole organization)".to_owned(),
            (false, Some(listed)) => {
                format!(
                    " (over the accounts listed {})",
                    listed.format("%Y-%m-%d %H:%M")
                )
            }
            (false, None) => String::new(),
        };
        let _ = write!(
            page,
            "<rect class=\"bar{}\" data-run=\"{}\" data-count=\"{}\" x=\"{x:.1}\" y=\"{}\" width=\"{width:.1}\" height=\"{height}\"><title>{} {}: {} account(s) past grace{scope}</title></rect>",
            if partial { " partial" } else { "" },
            escape(&run.run_id),
            run.accounts_past_grace,
            PLOT_HEIGHT as usize - height,
            when,
            escape(&run.run_id),
            run.accounts_past_grace,
        );
    }
    for (i, run) in runs.iter().enumerate() {
        // A date under the first run and then at most about ten more.
        if i % runs.len().div_ceil(10) == 0
            && let Some(at) = run.started_at
        {
            let x = f64::from(MARGIN_LEFT) + slot * (i as f64 + 0.5);
            let _ = write!(
                page,
                "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                PLOT_HEIGHT + 16,
                at.format("%m-%d")
            );
        }
    }
    page.push_str("</svg><p class=\"note\">Light bars: runs over named accounts only, or whose account listing broke off.</p>");
}

fn exemptions(page: &mut String, evidence: &Evidence) {
    page.push_str("<h2>Exemptions in force</h2>");
    if evidence.exemptions.is_empty() {
        page.push_str("<p class=\"note\" data-figure=\"exemptions\">None in the period's last run over the whole organization.</p>");
        return;
    }
    page.push_str("<p class=\"note\">As the period's last run over the whole organization applied them.</p><table data-figure=\"exemptions\"><tr><th>Account</th><th>Rule</th></tr>");
    for e in &evidence.exemptions {
        let _ = write!(
            page,
            "<tr data-exempt=\"{}\"><td>{}</td><td>{}</td></tr>",
            escape(&e.account_id),
            escape(&e.account_id),
            escape(&e.rule)
        );
    }
    page.push_str("</table>");
}

fn accounts(page: &mut String, accounts: &[AccountEvidence]) {
    page.push_str("<h2>Accounts</h2><p class=\"note\">Longest time past the grace period first: from the due time until the credentials were deleted or found gone, else until the last run that reported the account.</p>");
    page.push_str("<table><tr><th>Account</th><th>Name</th><th>Runs</th><th>Runs past grace</th><th>Longest past grace</th><th>Last state</th><th>Last reported</th></tr>");
    for a in accounts {
        let state = if a.past_grace_at_end {
            format!(
                "{} <span class=\"tag alert\">still past grace</span>",
                escape(&a.last_outcome)
            )
        } else {
            escape(&a.last_outcome)
        };
        let _ = write!(
            page,
            "<tr data-account=\"{id}\"{class}><td>{id}</td><td>{}</td><td class=\"n\" data-field=\"runs\" data-value=\"{}\">{}</td><td class=\"n\" data-field=\"runs_past_grace\" data-value=\"{}\">{}</td><td class=\"n\" data-field=\"longest_past_grace_seconds\" data-value=\"{}\">{}</td><td data-field=\"last_outcome\" data-value=\"{}\">{state}</td><td>{}</td></tr>",
            escape(&a.account_name),
            a.runs,
            a.runs,
            a.runs_past_grace,
            a.runs_past_grace,
            a.longest_past_grace_seconds,
            span(a.longest_past_grace_seconds),
            escape(&a.last_outcome),
            escape(&a.last_reported),
            id = escape(&a.account_id),
            class = if a.runs_past_grace > 0 {
                " class=\"past\""
            } else {
                ""
            },
        );
    }
    page.push_str("</table>");
}

/// `2d 1h`, `5h 12m`, `40m`, or `-` for never.
fn span(seconds: i64) -> String {
    if seconds <= 0 {
        return "-".into();
    }
    let t = TimeDelta::seconds(seconds);
    let (days, hours, minutes) = (t.num_days(), t.num_hours() % 24, t.num_minutes() % 60);
    match (days, hours) {
        (0, 0) => format!("{}m", minutes.max(1)),
        (0, h) => format!("{h}h {minutes}m"),
        (d, h) => format!("{d}d {h}h"),
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_escapes() {
        assert_eq!(span(0), "-");
        assert_eq!(span(59), "1m");
        assert_eq!(span(3 * 3600 + 125), "3h 2m");
        assert_eq!(span(2 * 86_400 + 3600 + 59), "2d 1h");
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
    }

    #[test]
    fn a_bar_says_which_runs_were_partial_or_over_an_earlier_listing() {
        let run = |id: &str, complete, reused: Option<&str>| RunEvidence {
            run_id: id.into(),
            started_at: None,
            whole_organization: true,
            complete,
            listing_reused_from: reused.map(|at| at.parse().unwrap()),
            accounts_reported: 1,
            accounts_past_grace: 0,
        };
        let mut page = String::new();
        let reused = Some("2026-11-01T02:59:00Z");
        let runs = [
            run("listed", true, None),
            run("reused", true, reused),
            run("cut", false, None),
        ];
        chart(&mut page, &runs);
        let titles: Vec<&str> = page
            .split("<title>")
            .skip(1)
            .filter_map(|t| t.split_once("</title>").map(|(title, _)| title))
            .collect();
        assert_eq!(
            titles,
            [
                "(no summary) listed: 0 account(s) past grace",
                "(no summary) reused: 0 account(s) past grace (over the accounts listed 2026-11-01 02:59)",
                "(no summary) cut: 0 account(s) past grace (not a complete run over the whole organization)",
            ]
        );
    }
}
