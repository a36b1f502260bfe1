use super::*;
use serde_json::json;

fn ids(list: &[&str]) -> BTreeSet<AccountId> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

/// The run an event asks for (panics on a recovery).
fn run(event: Value, configured: Mode) -> RunRequest {
    match parse_event(event, configured).unwrap() {
        Invocation::Run(request) => request,
        other => panic!("{other:?}"),
    }
}

/// The CloudTrail record EventBridge delivers for an AssumeRoot call (IAM User Guide,
/// CloudTrail example for AssumeRoot).
fn assume_root_record(task: &str, target: &str) -> Value {
    json!({
        "version": "0", "id": "6f87d04b-9f74-4f04-a780-7acf4b0a9b38",
        "detail-type": "AWS API Call via CloudTrail", "source": "aws.sts",
        "account": "999999999999", "time": "2026-12-02T09:00:05Z", "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.09", "eventTime": "2026-12-02T09:00:00Z",
            "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoot",
            "awsRegion": "us-east-1",
            "requestParameters": {
                "targetPrincipal": target,
                "taskPolicyArn": {"arn": format!("arn:aws:iam::aws:policy/root-task/{task}")},
                "durationSeconds": 900
            },
            "responseElements": {"credentials": {"accessKeyId": "ASIA...", "expiration": "Dec 2, 2026, 9:15:00 AM"}},
            "requestID": "a2b1f6c7", "eventID": "0f6c1d2e-3b4a-5c6d-7e8f-9a0b1c2d3e4f",
            "readOnly": true, "eventType": "AwsApiCall", "managementEvent": true,
            "recipientAccountId": "999999999999", "eventCategory": "Management"
        }
    })
}

#[test]
fn a_password_recovery_record_is_a_recovery_to_follow_up() {
    for target in ["111122223333", "arn:aws:iam::111122223333:root"] {
        let event = assume_root_record("IAMCreateRootUserPassword", target);
        assert_eq!(
            parse_event(event, Mode::Enforce).unwrap(),
            Invocation::Recovery(Recovery {
                account: "111122223333".parse().unwrap(),
                at: "2026-12-02T09:00:00Z".parse().unwrap(),
                event_id: "0f6c1d2e-3b4a-5c6d-7e8f-9a0b1c2d3e4f".into(),
            })
        );
    }
}

#[test]
fn other_assume_root_records_are_refused_and_say_why() {
    let deleting = assume_root_record("IAMDeleteRootUserCredentials", "111122223333");
    let err = parse_event(deleting, Mode::Enforce).unwrap_err();
    assert!(
        err.to_string().contains("IAMDeleteRootUserCredentials"),
        "{err}"
    );
    let mut failed = assume_root_record("IAMCreateRootUserPassword", "111122223333");
    failed["detail"]["errorCode"] = json!("AccessDenied");
    let err = parse_event(failed, Mode::Enforce).unwrap_err();
    assert!(
        err.to_string().contains("the call failed (AccessDenied)"),
        "{err}"
    );
    let not_an_account = assume_root_record("IAMCreateRootUserPassword", "1111");
    assert!(matches!(
        parse_event(not_an_account, Mode::Enforce),
        Err(EventError::NotARecovery(_))
    ));
}

#[test]
fn a_follow_up_invocation_carries_its_place_in_the_chain() {
    let request = run(
        json!({"accounts": ["111111111111"], "follow_up": 2}),
        Mode::Enforce,
    );
    assert_eq!(request.follow_up, Some(2));
    for bad in [
        json!({"follow_up": 1}),
        json!({"accounts": ["111111111111"], "follow_up": 0}),
    ] {
        assert!(parse_event(bad, Mode::Enforce).is_err());
    }
}

/// An EventBridge scheduled event, every envelope field as EventBridge sends it.
fn scheduled_event() -> Value {
    json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-23T03:00:00Z", "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/rootsweep"], "detail": {}
    })
}

#[test]
fn the_eventbridge_schedule_sweeps_the_organization_in_the_configured_mode() {
    assert_eq!(
        run(scheduled_event(), Mode::Enforce),
        RunRequest::scheduled(Mode::Enforce)
    );
}

#[test]
fn an_eventbridge_event_with_a_field_eventbridge_does_not_send_is_refused() {
    // A direct invocation's fields pasted into a scheduled event: read as the schedule, it
    // would sweep the whole organization in enforce mode.
    for (field, value) in [
        ("mode", json!("audit")),
        ("accounts", json!(["111122223333"])),
        ("follow_up", json!(1)),
        ("replay", json!(true)),
    ] {
        let mut event = scheduled_event();
        event[field] = value;
        let err = parse_event(event, Mode::Enforce).unwrap_err();
        assert_eq!(err, EventError::NotAnEnvelopeField(field.to_owned()));
        let message = err.to_string();
        assert!(
            message.contains(&format!("a field `{field}` that EventBridge does not send"))
                && message.contains(
                    "version, id, detail-type, source, account, time, region, resources, detail"
                ),
            "{message}"
        );
    }
    // The CloudTrail record of a recovery is an EventBridge event too.
    let mut recovery = assume_root_record("IAMCreateRootUserPassword", "111122223333");
    recovery["accounts"] = json!(["222222222222"]);
    assert!(matches!(
        parse_event(recovery, Mode::Enforce),
        Err(EventError::NotAnEnvelopeField(_))
    ));
}

#[test]
fn an_empty_object_is_a_full_run_as_configured() {
    assert_eq!(
        run(json!({}), Mode::Audit),
        RunRequest::scheduled(Mode::Audit)
    );
}

#[test]
fn a_direct_invocation_narrows_the_run_and_may_lower_the_mode() {
    let event = json!({"accounts": ["111111111111", "222222222222"], "mode": "audit"});
    let request = run(event, Mode::Enforce);
    assert_eq!(request.mode, Mode::Audit);
    assert_eq!(
        request.scope,
        Scope::Accounts(ids(&["111111111111", "222222222222"]))
    );
}

#[test]
fn enforce_is_accepted_only_when_configured() {
    let event = json!({"mode": "enforce"});
    assert_eq!(run(event.clone(), Mode::Enforce).mode, Mode::Enforce);
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
        (
            json!({"mode": "delete"}),
            "\"delete\" is not one of: audit, enforce",
        ),
        (json!({"accounts": []}), "`accounts` is empty"),
        // A null must not read as "absent": that would sweep the whole organization.
        (json!({"accounts": null}), "`accounts` is null"),
        (json!({"mode": null}), "`mode` is null"),
        (
            json!({"detail-type": "AWS API Call via CloudTrail"}),
            "only EventBridge",
        ),
        (
            json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.sts", "detail": {}}),
            "not a root password recovery",
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

/// An EventBridge event: some of the envelope's fields as EventBridge fills them, and beside
/// them fields that are not EventBridge's: a direct invocation's (`mode` naming a mode,
/// `accounts`, `follow_up`) or any other.
fn any_envelope() -> impl Strategy<Value = Value> {
    let sent = prop::sample::subsequence(ENVELOPE_FIELDS.to_vec(), 0..=ENVELOPE_FIELDS.len());
    let detail_type = prop_oneof![
        3 => Just("Scheduled Event"),
        1 => Just("AWS API Call via CloudTrail"),
    ];
    let foreign = prop_oneof![
        prop_oneof![Just("audit"), Just("enforce")]
            .prop_map(|mode| ("mode".to_owned(), json!(mode))),
        Just(("accounts".to_owned(), json!(["111122223333"]))),
        (1u32..4).prop_map(|n| ("follow_up".to_owned(), json!(n))),
        (
            "[a-z-]{1,10}".prop_filter("not EventBridge's", |name| {
                !ENVELOPE_FIELDS.contains(&name.as_str())
            }),
            any_json(),
        ),
    ];
    (sent, detail_type, prop::collection::vec(foreign, 0..3)).prop_map(
        |(sent, detail_type, foreign)| {
            let mut event = scheduled_event();
            let fields = event.as_object_mut().expect("an object");
            fields.retain(|name, _| sent.contains(&name.as_str()));
            fields.insert("detail-type".into(), detail_type.into());
            fields.extend(foreign);
            event
        },
    )
}

proptest! {
    #[test]
    fn an_eventbridge_event_is_run_only_as_eventbridge_sends_it(
        event in any_envelope(),
        enforce in any::<bool>(),
    ) {
        let configured = if enforce { Mode::Enforce } else { Mode::Audit };
        let fields = event.as_object().expect("an object");
        let foreign: Vec<String> = fields
            .keys()
            .filter(|name| !ENVELOPE_FIELDS.contains(&name.as_str()))
            .cloned()
            .collect();
        let scheduled = fields["detail-type"] == "Scheduled Event";
        match parse_event(event, configured) {
            Err(EventError::NotAnEnvelopeField(field)) => prop_assert!(foreign.contains(&field)),
            _ if !foreign.is_empty() => prop_assert!(false, "{foreign:?} were not refused"),
            Ok(Invocation::Run(request)) => {
                prop_assert!(scheduled);
                prop_assert_eq!(request, RunRequest::scheduled(configured));
            }
            // A CloudTrail record without a recovery in it, or a detail-type of another type.
            Ok(Invocation::Recovery(_)) => prop_assert!(false, "no recovery without its record"),
            Err(_) => prop_assert!(!scheduled),
        }
    }

    #[test]
    fn any_event_is_either_a_valid_request_or_a_rejection_naming_what_is_allowed(
        event in prop_oneof![any_json(), any_envelope()],
        enforce in any::<bool>(),
    ) {
        let configured = if enforce { Mode::Enforce } else { Mode::Audit };
        let asked = event.get("mode").and_then(Value::as_str).map(str::to_owned);
        match parse_event(event, configured) {
            Ok(Invocation::Recovery(_)) => prop_assert!(false, "no recovery without a CloudTrail record"),
            Ok(Invocation::Run(request)) => {
                prop_assert!(request.mode <= configured);
                // An event that names a mode gets it, or is refused: never silently another.
                if let Some(asked) = asked {
                    prop_assert_eq!(request.mode.as_str(), asked);
                }
            }
            Err(err) => {
                let message = err.to_string();
                prop_assert!(
                    ["`accounts`", "`mode`", "\"Scheduled Event\"", "ROOTSWEEP_MODE", "JSON object", "`follow_up`", "EventBridge does not send"]
                        .iter()
                        .any(|allowed| message.contains(allowed)),
                    "{message}"
                );
            }
        }
    }
}

/// A recovery made through another region's STS endpoint, forwarded to the home region
/// (infra/forwarder.yaml): the same follow-up as a home-region record.
#[test]
fn a_recovery_recorded_in_another_region_is_the_same_recovery() {
    let home = assume_root_record("IAMCreateRootUserPassword", "111122223333");
    let mut elsewhere = home.clone();
    elsewhere["region"] = json!("eu-west-1");
    elsewhere["detail"]["awsRegion"] = json!("eu-west-1");
    let parsed = parse_event(elsewhere, Mode::Audit).unwrap();
    assert!(matches!(&parsed, Invocation::Recovery(r) if r.account.to_string() == "111122223333"));
    assert_eq!(parsed, parse_event(home, Mode::Audit).unwrap());
}
