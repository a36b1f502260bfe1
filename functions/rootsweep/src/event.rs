//! Invocation events -> what one run is asked to do.
//!
//! Two shapes are accepted:
//! - the EventBridge scheduled event (or the `{}` that EventBridge Scheduler sends): a full sweep in
//!   the configured mode;
//! - a direct invocation `{"accounts": ["123456789012"], "mode": "audit"}`, both fields optional,
//!   that narrows the run to some accounts and may lower the mode to `audit`, never raise it.
//!
//! Anything else is rejected before any AWS call is made.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use crate::account::AccountId;
use crate::config::Mode;

/// Which accounts a run covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every member account of the organization.
    Organization,
    /// Only these accounts (each still subject to the skip and exemption rules).
    Accounts(BTreeSet<AccountId>),
}

impl Scope {
    pub fn includes(&self, id: &AccountId) -> bool {
        match self {
            Scope::Organization => true,
            Scope::Accounts(ids) => ids.contains(id),
        }
    }
}

/// What one run does, after the event has been checked against the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest {
    pub mode: Mode,
    pub scope: Scope,
}

impl RunRequest {
    /// A whole-organization run in the configured mode.
    pub fn scheduled(mode: Mode) -> Self {
        Self {
            mode,
            scope: Scope::Organization,
        }
    }

    /// A run narrowed to `accounts` and/or lowered to `requested_mode`. Raising the mode above
    /// the configured one is refused: enforcing must be a deliberate configuration change.
    pub fn targeted(
        configured: Mode,
        accounts: Option<BTreeSet<AccountId>>,
        requested_mode: Option<Mode>,
    ) -> Result<Self, EventError> {
        let mode = match requested_mode {
            Some(Mode::Enforce) if configured == Mode::Audit => {
                return Err(EventError::ModeAboveConfigured);
            }
            Some(mode) => mode,
            None => configured,
        };
        let scope = match accounts {
            None => Scope::Organization,
            Some(ids) if ids.is_empty() => return Err(EventError::NoAccounts),
            Some(ids) => Scope::Accounts(ids),
        };
        Ok(Self { mode, scope })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error(
        "the event is not a JSON object: send the EventBridge scheduled event, `{{}}`, or {{\"accounts\": [\"123456789012\"], \"mode\": \"audit\"}}"
    )]
    NotAnObject,
    #[error(
        "the event has detail-type {0:?}: only EventBridge \"Scheduled Event\" events start a sweep"
    )]
    NotAScheduledEvent(String),
    #[error(
        "the event is not valid: {0}. Allowed fields: `accounts` (a list of 12-digit account ids) and `mode` (`audit` or `enforce`)"
    )]
    Invalid(String),
    #[error(
        "`accounts` is empty: list at least one 12-digit account id, or leave `accounts` out to sweep the whole organization"
    )]
    NoAccounts,
    #[error(
        "`{0}` is null: leave `{0}` out, or give it a value (`accounts`: a list of 12-digit account ids; `mode`: `audit` or `enforce`)"
    )]
    Null(&'static str),
    #[error(
        "the event asks for `enforce` but the function is configured for `audit`: an event may lower the mode, never raise it. Set ROOTSWEEP_MODE=enforce to allow deletions"
    )]
    ModeAboveConfigured,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectInvocation {
    accounts: Option<BTreeSet<AccountId>>,
    mode: Option<Mode>,
}

/// The part of an EventBridge event we rely on; the envelope's other fields are EventBridge's.
#[derive(Deserialize)]
struct EventBridgeEvent {
    #[serde(rename = "detail-type")]
    detail_type: String,
}

/// Turns an invocation event into a run request, or says plainly why it cannot.
pub fn parse_event(event: Value, configured: Mode) -> Result<RunRequest, EventError> {
    let Value::Object(fields) = &event else {
        return Err(EventError::NotAnObject);
    };
    if fields.contains_key("detail-type") {
        let envelope: EventBridgeEvent =
            serde_json::from_value(event).map_err(|e| EventError::Invalid(e.to_string()))?;
        return if envelope.detail_type == "Scheduled Event" {
            Ok(RunRequest::scheduled(configured))
        } else {
            Err(EventError::NotAScheduledEvent(envelope.detail_type))
        };
    }
    // `null` would otherwise read as "absent", and a null `accounts` as the whole organization.
    for field in ["accounts", "mode"] {
        if fields.get(field) == Some(&Value::Null) {
            return Err(EventError::Null(field));
        }
    }
    let direct: DirectInvocation =
        serde_json::from_value(event).map_err(|e| EventError::Invalid(e.to_string()))?;
    RunRequest::targeted(configured, direct.accounts, direct.mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(list: &[&str]) -> BTreeSet<AccountId> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn the_eventbridge_schedule_sweeps_the_organization_in_the_configured_mode() {
        let event = json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-23T03:00:00Z", "region": "eu-west-1",
            "resources": ["arn:aws:events:eu-west-1:123456789012:rule/rootsweep"], "detail": {}
        });
        let request = parse_event(event, Mode::Enforce).unwrap();
        assert_eq!(request, RunRequest::scheduled(Mode::Enforce));
    }

    #[test]
    fn an_empty_object_is_a_full_run_as_configured() {
        assert_eq!(
            parse_event(json!({}), Mode::Audit).unwrap(),
            RunRequest::scheduled(Mode::Audit)
        );
    }

    #[test]
    fn a_direct_invocation_narrows_the_run_and_may_lower_the_mode() {
        let event = json!({"accounts": ["111111111111", "222222222222"], "mode": "audit"});
        let request = parse_event(event, Mode::Enforce).unwrap();
        assert_eq!(request.mode, Mode::Audit);
        assert_eq!(
            request.scope,
            Scope::Accounts(ids(&["111111111111", "222222222222"]))
        );
    }

    #[test]
    fn enforce_is_accepted_only_when_configured() {
        let event = json!({"mode": "enforce"});
        assert_eq!(
            parse_event(event.clone(), Mode::Enforce).unwrap().mode,
            Mode::Enforce
        );
        let err = parse_event(event, Mode::Audit).unwrap_err();
        assert_eq!(err, EventError::ModeAboveConfigured);
        assert!(err.to_string().contains("ROOTSWEEP_MODE=enforce"));
    }

    #[test]
    fn malformed_events_are_rejected_with_the_offending_field() {
        let cases = [
            (json!([]), "not a JSON object"),
            (json!("sweep"), "not a JSON object"),
            (
                json!({"acounts": ["111111111111"]}),
                "unknown field `acounts`",
            ),
            (
                json!({"accounts": ["1234"]}),
                "\"1234\" is not an AWS account id",
            ),
            (json!({"accounts": "111111111111"}), "invalid type"),
            (json!({"mode": "delete"}), "unknown variant `delete`"),
            (json!({"accounts": []}), "`accounts` is empty"),
            // A null must not read as "absent": that would sweep the whole organization.
            (json!({"accounts": null}), "`accounts` is null"),
            (json!({"mode": null}), "`mode` is null"),
            (
                json!({"detail-type": "AWS API Call via CloudTrail"}),
                "only EventBridge",
            ),
            (json!({"detail-type": 7}), "invalid type"),
        ];
        for (event, expected) in cases {
            let err = parse_event(event.clone(), Mode::Enforce).unwrap_err();
            assert!(
                err.to_string().contains(expected),
                "{event}: {err} should contain {expected:?}"
            );
        }
    }

    use proptest::prelude::*;

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            prop_oneof![
                "[0-9]{10,13}",
                "[a-zA-Z -]{0,16}",
                Just("Scheduled Event".to_owned()),
                Just("audit".to_owned()),
                Just("enforce".to_owned()),
                Just("123456789012".to_owned())
            ]
            .prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 32, 5, |inner| {
            let key = prop_oneof![
                Just("accounts".to_owned()),
                Just("mode".to_owned()),
                Just("detail-type".to_owned()),
                "[a-z]{1,8}"
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(key, inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_event_is_either_a_valid_request_or_a_rejection_naming_what_is_allowed(
            event in any_json(),
            enforce in any::<bool>(),
        ) {
            let configured = if enforce { Mode::Enforce } else { Mode::Audit };
            let asked = event.get("mode").and_then(Value::as_str).map(str::to_owned);
            match parse_event(event, configured) {
                Ok(request) => {
                    prop_assert!(request.mode <= configured);
                    // An event that names a mode gets it, or is refused: never silently another.
                    if let Some(asked) = asked {
                        prop_assert_eq!(request.mode.as_str(), asked);
                    }
                }
                Err(err) => {
                    let message = err.to_string();
                    prop_assert!(
                        ["`accounts`", "`mode`", "\"Scheduled Event\"", "ROOTSWEEP_MODE", "JSON object"]
                            .iter()
                            .any(|allowed| message.contains(allowed)),
                        "{message}"
                    );
                }
            }
        }
    }
}
