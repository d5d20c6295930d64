//! `kling-preflight rules` and `kling-preflight explain`.

use kling_lint::rules;
use serde_json::json;

use crate::args::{ExplainArgs, RulesArgs, RulesFormat};
use crate::exit::Exit;

pub(crate) fn list(args: &RulesArgs) -> anyhow::Result<Exit> {
    let out = match args.format {
        RulesFormat::Json => {
            let items: Vec<_> = rules::all()
                .iter()
                .map(|r| {
                    json!({"id": r.meta.id, "name": r.meta.name, "severity": r.meta.severity, "languages": r.meta.languages,
                           "summary": r.meta.summary, "autofix": r.meta.autofix, "enforces": r.meta.enforces})
                })
                .collect();
            serde_json::to_string_pretty(&items)? + "\n"
        }
        RulesFormat::Text => {
            let mut s = String::new();
            for r in rules::all() {
                s.push_str(&format!(
                    "{:<6} {:<26} {:<8} {}\n",
                    r.meta.id,
                    r.meta.name,
                    r.meta.severity.as_str(),
                    r.meta.summary
                ));
            }
            s
        }
    };
    super::write_output(None, &out)?;
    Ok(Exit::Clean)
}

pub(crate) fn explain(args: &ExplainArgs) -> anyhow::Result<Exit> {
    let Some(rule) = rules::find(&args.rule) else {
        anyhow::bail!("unknown rule `{}`; `kling-preflight rules` lists them", args.rule);
    };
    super::write_output(None, &rule.meta.explain())?;
    Ok(Exit::Clean)
}
