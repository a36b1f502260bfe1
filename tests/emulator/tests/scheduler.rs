//! EventBridge Scheduler through the AWS SDK for Rust: one-time schedules in groups, errors as
//! Scheduler answers them, firing due schedules, faults, call records and the caller's policy.

use crate::common::*;
use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode,
    ScheduleState, Target,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};
use rootsweep_emulator::{
    Emulator, EmulatorHandle, Fault, FaultKind, Protocol, STACK_UUID, TemplatePolicy,
};

const GROUP: &str = "follow-ups";
const FUNCTION: &str = "arn:aws:lambda:us-east-1:111111111111:function:rootsweep";
const ROLE: &str = "arn:aws:iam::111111111111:role/rootsweep-follow-up-invoke";

async fn emulator() -> EmulatorHandle {
    Emulator::new(test_org())
        .schedule_group(GROUP)
        .spawn()
        .await
        .unwrap()
}

async fn client(emulator: &EmulatorHandle) -> Client {
    Client::new(&without_retries(&caller_config(emulator).await))
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// CreateSchedule as rootsweep sends it: one time, UTC, no flexible window, deleted after it
/// fired, the account to re-check in the input.
async fn create(
    client: &Client,
    name: &str,
    expression: &str,
    after: ActionAfterCompletion,
) -> Result<String, aws_sdk_scheduler::Error> {
    let target = Target::builder()
        .arn(FUNCTION)
        .role_arn(ROLE)
        .input(format!(r#"{{"accounts": ["{name}"]}}"#))
        .build()
        .unwrap();
    let window = FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .unwrap();
    let output = client
        .create_schedule()
        .name(name)
        .group_name(GROUP)
        .schedule_expression(expression)
        .schedule_expression_timezone("UTC")
        .flexible_time_window(window)
        .target(target)
        .action_after_completion(after)
        .description("rootsweep follow-up")
        .send()
        .await?;
    Ok(output.schedule_arn().to_owned())
}

#[tokio::test]
async fn create_get_list_and_delete() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    let arn = create(
        &client,
        "a-222222222222",
        "at(2026-12-02T18:00:00)",
        ActionAfterCompletion::Delete,
    )
    .await
    .unwrap();
    assert_eq!(
        arn,
        "arn:aws:scheduler:us-east-1:111111111111:schedule/follow-ups/a-222222222222"
    );
    let got = client
        .get_schedule()
        .name("a-222222222222")
        .group_name(GROUP)
        .send()
        .await
        .unwrap();
    assert_eq!(got.schedule_expression(), Some("at(2026-12-02T18:00:00)"));
    assert_eq!(got.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(
        got.action_after_completion(),
        Some(&ActionAfterCompletion::Delete)
    );
    assert_eq!(got.state(), Some(&ScheduleState::Enabled));
    let target = got.target().unwrap();
    assert_eq!((target.arn(), target.role_arn()), (FUNCTION, ROLE));
    assert_eq!(target.input(), Some(r#"{"accounts": ["a-222222222222"]}"#));
    assert!(got.creation_date().is_some());

    client
        .delete_schedule()
        .name("a-222222222222")
        .group_name(GROUP)
        .send()
        .await
        .unwrap();
    let gone = client
        .get_schedule()
        .name("a-222222222222")
        .group_name(GROUP)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(gone.is_resource_not_found_exception(), "{gone:?}");
    assert_eq!(
        gone.message(),
        Some("Schedule a-222222222222 does not exist.")
    );
    assert!(emulator.schedules().is_empty());
}

#[tokio::test]
async fn a_dead_letter_queue_is_kept_and_must_be_a_queue_arn() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    let create_with = |queue: &str| {
        let target = Target::builder()
            .arn(FUNCTION)
            .role_arn(ROLE)
            .dead_letter_config(DeadLetterConfig::builder().arn(queue).build())
            .build()
            .unwrap();
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .unwrap();
        client
            .create_schedule()
            .name("d")
            .group_name(GROUP)
            .schedule_expression("at(2026-12-02T18:00:00)")
            .flexible_time_window(window)
            .target(target)
            .send()
    };
    let queue = "arn:aws:sqs:us-east-1:111111111111:rootsweep-FollowUpDeadLetterQueue-a1";
    let refused = create_with("rootsweep-FollowUpDeadLetterQueue-a1")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("ValidationException"));
    assert!(
        refused
            .message()
            .unwrap()
            .contains("'target.deadLetterConfig.arn'"),
        "{refused:?}"
    );
    create_with(queue).await.unwrap();
    let got = client
        .get_schedule()
        .name("d")
        .group_name(GROUP)
        .send()
        .await
        .unwrap();
    let kept = got.target().and_then(|t| t.dead_letter_config());
    assert_eq!(kept.and_then(|d| d.arn()), Some(queue));
    assert_eq!(emulator.schedules()[0].dead_letter_arn(), Some(queue));
}

#[tokio::test]
async fn list_pages_and_summaries() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    for i in 0..4 {
        let name = format!("b-{i}");
        create(
            &client,
            &name,
            "at(2027-01-01T00:00:00)",
            ActionAfterCompletion::None,
        )
        .await
        .unwrap();
    }
    let summaries: Vec<_> = client
        .list_schedules()
        .group_name(GROUP)
        .max_results(2)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let names: Vec<&str> = summaries.iter().filter_map(|s| s.name()).collect();
    assert_eq!(names, ["b-0", "b-1", "b-2", "b-3"]);
    assert_eq!(summaries[0].target().map(|t| t.arn()), Some(FUNCTION));
    let in_default = client.list_schedules().group_name("default").send().await;
    assert!(in_default.unwrap().schedules().is_empty());
}

#[tokio::test]
async fn conflicts_missing_groups_and_invalid_expressions() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    let expression = "at(2026-12-02T18:00:00)";
    create(&client, "once", expression, ActionAfterCompletion::Delete)
        .await
        .unwrap();
    let again = create(&client, "once", expression, ActionAfterCompletion::Delete)
        .await
        .unwrap_err();
    assert!(
        matches!(&again, aws_sdk_scheduler::Error::ConflictException(_)),
        "{again:?}"
    );
    assert_eq!(again.message(), Some("Schedule once already exists."));
    for (expression, says) in [
        ("rate(1 day)", "not emulated"),
        (
            "at(2026-12-02 18:00)",
            "Invalid Schedule Expression at(2026-12-02 18:00).",
        ),
    ] {
        let error = create(&client, "x", expression, ActionAfterCompletion::None)
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some("ValidationException"));
        assert!(error.message().unwrap().contains(says), "{error:?}");
    }
    let nowhere = client
        .get_schedule()
        .name("once")
        .group_name("nowhere")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(nowhere.is_resource_not_found_exception());
    assert_eq!(
        nowhere.message(),
        Some("Schedule group nowhere does not exist.")
    );
    let listed = client.list_schedules().group_name("nowhere").send().await;
    assert_eq!(
        listed.unwrap_err().code(),
        Some("ResourceNotFoundException")
    );
}

#[tokio::test]
async fn the_same_client_token_is_a_retry_not_a_conflict() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    let window = FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .unwrap();
    let target = Target::builder()
        .arn(FUNCTION)
        .role_arn(ROLE)
        .build()
        .unwrap();
    let send = |token: &'static str| {
        client
            .create_schedule()
            .name("retried")
            .schedule_expression("at(2026-12-02T18:00:00)")
            .flexible_time_window(window.clone())
            .target(target.clone())
            .client_token(token)
            .send()
    };
    let first = send("token-1").await.unwrap();
    let retry = send("token-1").await.unwrap();
    assert_eq!(first.schedule_arn(), retry.schedule_arn());
    assert!(first.schedule_arn().contains(":schedule/default/retried"));
    assert!(
        send("token-2")
            .await
            .unwrap_err()
            .into_service_error()
            .is_conflict_exception()
    );
    let delete = |token: &'static str| {
        client
            .delete_schedule()
            .name("retried")
            .client_token(token)
            .send()
    };
    delete("delete-1").await.unwrap();
    delete("delete-1").await.unwrap();
    let other = delete("delete-2").await.unwrap_err().into_service_error();
    assert!(other.is_resource_not_found_exception());
}

/// Due at 17:00 and kept, due at 18:00 and deleted, due the next morning and deleted.
async fn three_schedules(client: &Client) {
    for (name, expression, after) in [
        (
            "early-delete",
            "at(2026-12-02T18:00:00)",
            ActionAfterCompletion::Delete,
        ),
        (
            "early-keep",
            "at(2026-12-02T17:00:00)",
            ActionAfterCompletion::None,
        ),
        (
            "later",
            "at(2026-12-03T09:30:00)",
            ActionAfterCompletion::Delete,
        ),
    ] {
        create(client, name, expression, after).await.unwrap();
    }
}

#[tokio::test]
async fn due_schedules_fire_once_and_delete_after_completion() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    three_schedules(&client).await;
    let now = at("2026-12-02T18:00:00Z");
    let due: Vec<String> = emulator
        .due_schedules(now)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(due, ["early-keep", "early-delete"]);

    let fired = emulator.fire_due_schedules(now);
    assert_eq!(fired.len(), 2);
    assert_eq!(fired[0].name, "early-keep");
    assert!(!fired[0].deleted);
    let deleted = &fired[1];
    assert_eq!(
        (
            deleted.group.as_str(),
            deleted.target_arn.as_str(),
            deleted.role_arn.as_str()
        ),
        (GROUP, FUNCTION, ROLE)
    );
    assert_eq!(
        deleted.input.as_deref(),
        Some(r#"{"accounts": ["early-delete"]}"#)
    );
    assert_eq!(
        (deleted.at, deleted.fired_at, deleted.deleted),
        (now, now, true)
    );
    let get = |name: &'static str| client.get_schedule().name(name).group_name(GROUP).send();
    let gone = get("early-delete").await.unwrap_err().into_service_error();
    assert!(gone.is_resource_not_found_exception());
    assert!(get("early-keep").await.is_ok());
    assert!(
        emulator.fire_due_schedules(now).is_empty(),
        "a completed schedule fires once"
    );
    assert_eq!(emulator.fired_schedules().len(), 2);
}

#[tokio::test]
async fn firing_over_the_admin_api() {
    let emulator = emulator().await;
    three_schedules(&client(&emulator).await).await;
    let json = |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap();
    let path = "/_emulator/schedules/fire?now=2026-12-02T18:00:00Z";
    let (status, body) = http(&emulator, "POST", path, &[], "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body).as_array().map(Vec::len), Some(2));
    let path = "/_emulator/schedules/due?now=2026-12-04T00:00:00Z";
    let (_, due) = http(&emulator, "GET", path, &[], "").await;
    assert_eq!(json(&due)[0]["name"], "later");
    assert_eq!(json(&due)[0]["at"], "2026-12-03T09:30:00Z");
    let path = "/_emulator/schedules/fire?now=2026-12-04T00:00:00Z";
    let (_, later) = http(&emulator, "POST", path, &[], "").await;
    assert_eq!(json(&later)[0]["name"], "later");
    let (_, all) = http(&emulator, "GET", "/_emulator/schedules", &[], "").await;
    let all = json(&all);
    assert_eq!(all.as_array().map(Vec::len), Some(1));
    assert_eq!(all[0]["name"], "early-keep");
    assert_eq!(all[0]["fired_at"], "2026-12-02T18:00:00Z");
    let (_, fired) = http(&emulator, "GET", "/_emulator/schedules/fired", &[], "").await;
    assert_eq!(json(&fired).as_array().map(Vec::len), Some(3));
    let (status, _) = http(
        &emulator,
        "POST",
        "/_emulator/schedules/fire?now=soon",
        &[],
        "",
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn faults_records_and_root_sessions() {
    let emulator = emulator().await;
    emulator.set_faults(vec![
        Fault::new("CreateSchedule", FaultKind::Throttle).times(1),
        Fault::new("GetSchedule", FaultKind::NoSuchEntity).times(1),
    ]);
    // Standard retries take the throttled call again.
    let retrying = Client::new(&caller_config(&emulator).await);
    create(
        &retrying,
        "s",
        "at(2026-12-02T18:00:00)",
        ActionAfterCompletion::Delete,
    )
    .await
    .unwrap();
    let missing = retrying
        .get_schedule()
        .name("s")
        .group_name(GROUP)
        .send()
        .await;
    assert_eq!(
        missing.unwrap_err().code(),
        Some("ResourceNotFoundException")
    );
    let calls = emulator.calls();
    let creates: Vec<_> = calls
        .iter()
        .filter(|c| c.operation == "CreateSchedule")
        .collect();
    assert_eq!(creates.len(), 2);
    assert_eq!(creates[0].service.as_deref(), Some("scheduler"));
    assert_eq!(creates[0].protocol, Protocol::RestJson1);
    assert_eq!(
        (creates[0].status, creates[0].fault.as_deref()),
        (429, Some("throttle"))
    );
    assert_eq!(
        creates[0].error_code.as_deref(),
        Some("ThrottlingException")
    );
    assert_eq!(creates[1].status, 200);

    let root = root_session(&emulator, FULL, AUDIT).await;
    let denied = Client::new(&without_retries(&root))
        .list_schedules()
        .send()
        .await;
    assert_eq!(denied.unwrap_err().code(), Some("AccessDeniedException"));
}

#[tokio::test]
async fn errors_on_the_wire() {
    let emulator = emulator().await;
    let signing = Signing::caller("scheduler");
    let path = "/schedules/nope?groupName=follow-ups";
    let missing = signed(&emulator, &signing, "GET", path, &[], "").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        r#"{"message":"Schedule nope does not exist."}"#
    );
    assert_eq!(
        missing.header("x-amzn-errortype"),
        Some("ResourceNotFoundException")
    );
    assert!(missing.header("x-amzn-requestid").is_some());

    let unknown = signed(&emulator, &signing, "GET", "/nothing-here", &[], "").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.header("x-amzn-errortype"),
        Some("UnknownOperationException")
    );

    let mut stranger = Signing::caller("scheduler");
    stranger.credentials =
        aws_credential_types::Credentials::new("AKIDUNKNOWN", "secret", None, None, "test");
    let refused = signed(&emulator, &stranger, "GET", "/schedules", &[], "").await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.header("x-amzn-errortype"),
        Some("UnrecognizedClientException")
    );
}

#[tokio::test]
async fn the_templates_role_may_manage_its_follow_up_group_only() {
    let template = include_str!("../../../infra/template.yaml");
    let policy = TemplatePolicy::parse(template).unwrap();
    // The template names the group after its stack id's UUID, STACK_UUID for the emulator.
    let group = format!("rootsweep-follow-ups-{STACK_UUID}");
    let group = group.as_str();
    let emulator = Emulator::new(test_org())
        .schedule_group(group)
        .caller_policy(policy)
        .spawn()
        .await
        .unwrap();
    let client = client(&emulator).await;
    let window = FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .unwrap();
    let target = Target::builder()
        .arn(FUNCTION)
        .role_arn(ROLE)
        .build()
        .unwrap();
    let create_in = |group: &str| {
        client
            .create_schedule()
            .name("f")
            .group_name(group)
            .schedule_expression("at(2026-12-02T18:00:00)")
            .flexible_time_window(window.clone())
            .target(target.clone())
            .send()
    };
    create_in(group).await.unwrap();
    client
        .get_schedule()
        .name("f")
        .group_name(group)
        .send()
        .await
        .unwrap();
    let denied = create_in("default").await.unwrap_err();
    assert_eq!(denied.code(), Some("AccessDeniedException"));
    assert_eq!(
        denied.message(),
        Some(
            "User: arn:aws:sts::111111111111:assumed-role/RootSweep/emulator is not authorized to perform: scheduler:CreateSchedule on resource: arn:aws:scheduler:us-east-1:111111111111:schedule/default/f because no identity-based policy allows the scheduler:CreateSchedule action"
        )
    );
    // ListSchedules is the operator's (its CLI), not the function role's.
    let listed = client.list_schedules().group_name(group).send().await;
    assert_eq!(listed.unwrap_err().code(), Some("AccessDeniedException"));
}
