//! The rule registry. Each rule is declared once: its documentation lives in
//! `rules/<ID>-<name>.toml` at the repository root, its logic in one file here named
//! after it, and this table maps one to the other.

mod helpers;
pub mod meta;

mod kl101_duration_not_string;
mod kl102_i2v_exclusive_features;
mod kl103_model_endpoint_mismatch;
mod kl104_invalid_parameter_value;
mod kl105_image_data_uri;
mod kl201_jwt_missing_typ;
mod kl202_token_at_import;
mod kl203_token_lifetime;
mod kl204_bearer_format;
mod kl205_hardcoded_credentials;
mod kl301_unbounded_polling;
mod kl302_failed_status_unhandled;
mod kl303_temporary_url_persisted;
mod kl304_wrong_status_literal;
mod kl305_poll_without_delay;
mod kl401_http_without_timeout;
mod kl402_retry_without_backoff;
mod kl403_unbounded_retries;
mod kl404_no_connection_reuse;
mod kl501_secret_logged;
mod kl502_webhook_not_https;
mod kl601_audio_cost;
mod kl602_pro_mode_hardcoded;
mod kl701_vague_prompt;

use std::sync::LazyLock;

use crate::analysis::Unit;
use crate::diagnostic::{Diagnostic, Severity};
use crate::facts::Span;
pub use meta::RuleMeta;

/// Settings of individual rules, from configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleSettings {
    /// KL201's strict reading: flag library calls that rely on the library's default
    /// header too.
    pub require_explicit_header: bool,
}

/// The facts a rule reads; a rule is skipped for files that have none of them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Needs(u8);

impl Needs {
    pub(crate) const MAPS: Needs = Needs(1);
    pub(crate) const CALLS: Needs = Needs(2);
    pub(crate) const LOOPS: Needs = Needs(4);
    pub(crate) const ASSIGNS: Needs = Needs(8);
    pub(crate) const COMPARISONS: Needs = Needs(16);
    pub(crate) const TYPES: Needs = Needs(32);
    pub(crate) const ENGINE: Needs = Needs(0);

    const fn or(self, other: Needs) -> Needs {
        Needs(self.0 | other.0)
    }

    /// Whether the file has any of the facts.
    pub(crate) fn met_by(self, f: &crate::facts::Facts) -> bool {
        (self.0 & 1 != 0 && !f.maps.is_empty())
            || (self.0 & 2 != 0 && !f.calls.is_empty())
            || (self.0 & 4 != 0 && !f.loops.is_empty())
            || (self.0 & 8 != 0 && !f.assigns.is_empty())
            || (self.0 & 16 != 0 && !f.comparisons.is_empty())
            || (self.0 & 32 != 0 && !f.types.is_empty())
    }
}

/// A rule's entry in the registry.
pub(crate) struct RuleDef {
    pub(crate) id: &'static str,
    doc: &'static str,
    /// `None` for the rules the engine itself reports (KL000, KL001).
    pub(crate) check: Option<fn(&mut Checker<'_, '_>)>,
    pub(crate) needs: Needs,
}

macro_rules! registry {
    ($($id:literal $file:literal => $check:expr, $needs:expr;)*) => {
        pub(crate) const DEFS: &[RuleDef] = &[$(
            RuleDef {
                id: $id,
                doc: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules/", $file)),
                check: $check,
                needs: $needs,
            },
        )*];
    };
}

registry! {
    "KL000" "KL000-unused-suppression.toml" => None, Needs::ENGINE;
    "KL001" "KL001-parse-error.toml" => None, Needs::ENGINE;
    "KL101" "KL101-duration-not-string.toml" => Some(kl101_duration_not_string::check), Needs::MAPS.or(Needs::TYPES);
    "KL102" "KL102-i2v-exclusive-features.toml" => Some(kl102_i2v_exclusive_features::check), Needs::MAPS;
    "KL103" "KL103-model-endpoint-mismatch.toml" => Some(kl103_model_endpoint_mismatch::check), Needs::MAPS;
    "KL104" "KL104-invalid-parameter-value.toml" => Some(kl104_invalid_parameter_value::check), Needs::MAPS;
    "KL105" "KL105-image-data-uri.toml" => Some(kl105_image_data_uri::check), Needs::MAPS;
    "KL201" "KL201-jwt-missing-typ.toml" => Some(kl201_jwt_missing_typ::check), Needs::CALLS.or(Needs::MAPS);
    "KL202" "KL202-token-at-import.toml" => Some(kl202_token_at_import::check), Needs::ASSIGNS.or(Needs::CALLS);
    "KL203" "KL203-token-lifetime.toml" => Some(kl203_token_lifetime::check), Needs::CALLS;
    "KL204" "KL204-bearer-format.toml" => Some(kl204_bearer_format::check), Needs::MAPS.or(Needs::CALLS);
    "KL205" "KL205-hardcoded-credentials.toml" => Some(kl205_hardcoded_credentials::check), Needs::ASSIGNS.or(Needs::MAPS).or(Needs::CALLS);
    "KL301" "KL301-unbounded-polling.toml" => Some(kl301_unbounded_polling::check), Needs::LOOPS;
    "KL302" "KL302-failed-status-unhandled.toml" => Some(kl302_failed_status_unhandled::check), Needs::COMPARISONS;
    "KL303" "KL303-temporary-url-persisted.toml" => Some(kl303_temporary_url_persisted::check), Needs::CALLS.or(Needs::ASSIGNS);
    "KL304" "KL304-wrong-status-literal.toml" => Some(kl304_wrong_status_literal::check), Needs::COMPARISONS;
    "KL305" "KL305-poll-without-delay.toml" => Some(kl305_poll_without_delay::check), Needs::LOOPS;
    "KL401" "KL401-http-without-timeout.toml" => Some(kl401_http_without_timeout::check), Needs::CALLS;
    "KL402" "KL402-retry-without-backoff.toml" => Some(kl402_retry_without_backoff::check), Needs::LOOPS.or(Needs::CALLS);
    "KL403" "KL403-unbounded-retries.toml" => Some(kl403_unbounded_retries::check), Needs::LOOPS.or(Needs::CALLS);
    "KL404" "KL404-no-connection-reuse.toml" => Some(kl404_no_connection_reuse::check), Needs::CALLS;
    "KL501" "KL501-secret-logged.toml" => Some(kl501_secret_logged::check), Needs::CALLS;
    "KL502" "KL502-webhook-not-https.toml" => Some(kl502_webhook_not_https::check), Needs::MAPS.or(Needs::ASSIGNS);
    "KL601" "KL601-audio-cost.toml" => Some(kl601_audio_cost::check), Needs::MAPS;
    "KL602" "KL602-pro-mode-hardcoded.toml" => Some(kl602_pro_mode_hardcoded::check), Needs::MAPS;
    "KL701" "KL701-vague-prompt.toml" => Some(kl701_vague_prompt::check), Needs::MAPS;
}

/// A registered rule: its definition and parsed documentation.
pub struct Rule {
    pub(crate) def: &'static RuleDef,
    /// The documentation.
    pub meta: RuleMeta,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    DEFS.iter()
        .map(|def| {
            let meta: RuleMeta =
                toml::from_str(def.doc).unwrap_or_else(|e| panic!("rules/{}-*.toml is invalid: {e}", def.id));
            assert_eq!(meta.id, def.id, "the registry and the rule file disagree on the id");
            Rule { def, meta }
        })
        .collect()
});

/// Every rule, in id order.
pub fn all() -> &'static [Rule] {
    &RULES
}

/// A rule by id (`KL101`) or name (`duration-not-string`).
pub fn find(key: &str) -> Option<&'static Rule> {
    all().iter().find(|r| r.meta.id.eq_ignore_ascii_case(key) || r.meta.name == key)
}

/// What a rule's check function gets: the file, the settings, and a place to report.
pub(crate) struct Checker<'a, 'u> {
    pub(crate) unit: &'a Unit<'u>,
    pub(crate) settings: &'a RuleSettings,
    pub(crate) rule: &'static Rule,
    pub(crate) severity: Severity,
    pub(crate) out: &'a mut Vec<Diagnostic>,
}

impl Checker<'_, '_> {
    /// Report a finding at `span`.
    pub(crate) fn report(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        let file = self.unit.file;
        let end = if span.end > span.start { span.end } else { span.start };
        self.out.push(Diagnostic {
            rule: self.rule.def.id,
            name: leak_name(self.rule),
            severity: self.severity,
            path: file.path.clone(),
            span,
            start: file.position(span.start),
            end: file.position(end),
            message: message.into(),
            label: None,
            help: None,
            fix: None,
        });
        self.out.last_mut().expect("just pushed")
    }
}

/// Rule names live as long as the registry.
fn leak_name(rule: &'static Rule) -> &'static str {
    rule.meta.name.as_str()
}

impl Diagnostic {
    /// Set the label under the caret.
    pub(crate) fn label(&mut self, label: impl Into<String>) -> &mut Self {
        self.label = Some(label.into());
        self
    }

    /// Set the help line.
    pub(crate) fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    /// Attach a fix.
    pub(crate) fn fix(&mut self, fix: crate::diagnostic::Fix) -> &mut Self {
        self.fix = Some(fix);
        self
    }
}
