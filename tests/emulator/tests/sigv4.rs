//! Signature Version 4 verification: every request must be signed with credentials the emulator
//! knows, within 5 minutes of its clock, for a valid scope. Through the AWS SDK for Rust where it
//! can make the request, and hand-made with aws-sigv4 (the SDK's own signer) where it cannot.

use std::time::{Duration, SystemTime};

use crate::common::*;
use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_smithy_async::time::StaticTimeSource;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rootsweep_emulator::{CallerCredentials, CallerKind, Emulator};

fn static_credentials(id: &str, secret: &str, token: Option<&str>) -> Credentials {
    Credentials::new(id, secret, token.map(str::to_owned), None, "test")
}

/// (status, code, message) of an STS and of an Organizations call made with `config`.
async fn answers(config: &SdkConfig) -> [(u16, String, String); 2] {
    let config = without_retries(config);
    let sts = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    let organizations = aws_sdk_organizations::Client::new(&config)
        .describe_organization()
        .send()
        .await
        .unwrap_err();
    let sts_status = sts.raw_response().unwrap().status().as_u16();
    let organizations_status = organizations.raw_response().unwrap().status().as_u16();
    let (sts, organizations) = (sts.into_service_error(), organizations.into_service_error());
    [
        (
            sts_status,
            sts.code().unwrap().to_owned(),
            sts.message().unwrap().to_owned(),
        ),
        (
            organizations_status,
            organizations.code().unwrap().to_owned(),
            organizations.message().unwrap().to_owned(),
        ),
    ]
}

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

#[tokio::test]
async fn a_wrong_secret_or_an_unknown_key_is_refused_per_protocol() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let wrong_secret = static_credentials("AKIDEXAMPLE", "not the secret", None);
    let answered = answers(&config(&emulator, wrong_secret).await).await;
    assert_eq!(
        answered,
        [
            (403, "SignatureDoesNotMatch".into(), MISMATCH.into()),
            (400, "InvalidSignatureException".into(), MISMATCH.into())
        ]
    );
    let unknown = static_credentials("AKIAUNKNOWNKEY000000", "x", None);
    let answered = answers(&config(&emulator, unknown).await).await;
    assert_eq!(
        answered,
        [
            (403, "InvalidClientTokenId".into(), INVALID_TOKEN.into()),
            (
                400,
                "UnrecognizedClientException".into(),
                INVALID_TOKEN.into()
            )
        ]
    );
    // The caller's long-term key with a session token is not a session.
    let with_token = static_credentials(
        rootsweep_emulator::DEFAULT_CALLER_ACCESS_KEY_ID,
        rootsweep_emulator::DEFAULT_CALLER_SECRET_ACCESS_KEY,
        Some("EMUTOKENforged"),
    );
    let answered = answers(&config(&emulator, with_token).await).await;
    assert_eq!(answered[0].1, "InvalidClientTokenId");

    // CloudWatch (rpc-v2-cbor) follows the JSON services.
    let wrong = config(&emulator, static_credentials("AKIDEXAMPLE", "nope", None)).await;
    let error = aws_sdk_cloudwatch::Client::new(&without_retries(&wrong))
        .put_metric_data()
        .namespace("RootSweep")
        .metric_data(
            aws_sdk_cloudwatch::types::MetricDatum::builder()
                .metric_name("Runs")
                .value(1.0)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.raw_response().unwrap().status().as_u16(), 400);
    assert_eq!(
        error.into_service_error().code(),
        Some("InvalidSignatureException")
    );
    assert!(emulator.metrics().is_empty());
    assert!(
        emulator
            .calls()
            .iter()
            .all(|c| c.caller == CallerKind::Unauthenticated && c.status >= 400)
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn root_sessions_sign_with_their_own_secret_and_token() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let output = assume_root(&caller_config(&emulator).await, FULL, AUDIT, 900)
        .await
        .unwrap();
    let issued = output.credentials().unwrap();
    let tampered = static_credentials(
        issued.access_key_id(),
        "EMUSECRETnotthisone",
        Some(issued.session_token()),
    );
    let iam = aws_sdk_iam::Client::new(&without_retries(&config(&emulator, tampered).await));
    let error = iam.get_user().send().await.unwrap_err();
    assert_eq!(
        error.into_service_error().code(),
        Some("SignatureDoesNotMatch")
    );
    let wrong_token = static_credentials(
        issued.access_key_id(),
        issued.secret_access_key(),
        Some("EMUTOKENnotthisone"),
    );
    let iam = aws_sdk_iam::Client::new(&without_retries(&config(&emulator, wrong_token).await));
    let error = iam.get_user().send().await.unwrap_err();
    assert_eq!(
        error.into_service_error().code(),
        Some("InvalidClientTokenId")
    );
    let iam = aws_sdk_iam::Client::new(&config(&emulator, session_credentials(&output)).await);
    iam.get_user().send().await.unwrap();
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn clocks_more_than_five_minutes_off_are_refused() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let caller = caller_config(&emulator).await;
    let skewed = |offset: i64| {
        let now = SystemTime::now();
        let time = match offset < 0 {
            true => now - Duration::from_secs(offset.unsigned_abs()),
            false => now + Duration::from_secs(offset as u64),
        };
        caller
            .to_builder()
            .time_source(StaticTimeSource::new(time))
            .build()
    };
    let [sts, organizations] = answers(&skewed(-600)).await;
    assert_eq!((sts.0, sts.1.as_str()), (403, "SignatureDoesNotMatch"));
    assert!(sts.2.starts_with("Signature expired: "), "{}", sts.2);
    assert!(sts.2.ends_with(" - 5 min.)"), "{}", sts.2);
    assert_eq!(
        (organizations.0, organizations.1.as_str()),
        (400, "InvalidSignatureException")
    );
    assert!(organizations.2.starts_with("Signature expired: "));
    let [sts, _] = answers(&skewed(600)).await;
    assert!(
        sts.2.starts_with("Signature not yet current: "),
        "{}",
        sts.2
    );
    // Four minutes either way is within AWS's five.
    for offset in [-240, 240] {
        aws_sdk_sts::Client::new(&skewed(offset))
            .get_caller_identity()
            .send()
            .await
            .unwrap();
    }
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn caller_credentials_are_set_per_run() {
    let custom = CallerCredentials::new("AKIACUSTOMCALLER0001", "custom-secret");
    let emulator = Emulator::new(test_org())
        .caller_credentials(custom.clone())
        .spawn()
        .await
        .unwrap();
    assert_eq!(emulator.caller_credentials(), custom);
    // The default pair is not known to this run.
    let [sts, _] = answers(&caller_config(&emulator).await).await;
    assert_eq!(sts.1, "InvalidClientTokenId");
    let credentials = static_credentials(&custom.access_key_id, &custom.secret_access_key, None);
    let identity = aws_sdk_sts::Client::new(&config(&emulator, credentials).await)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(identity.account(), Some(MANAGEMENT));
    emulator.shutdown().await.unwrap();
}

const CALLER_IDENTITY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const FORM: &str = "Content-Type: application/x-www-form-urlencoded";

/// A hand-signed STS GetCallerIdentity at `path`: (status, body).
async fn sts_call(
    emulator: &rootsweep_emulator::EmulatorHandle,
    signing: &Signing,
    path: &str,
) -> (u16, String) {
    let headers = signing.sign("localhost", path, &[FORM], CALLER_IDENTITY);
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    http(emulator, "POST", path, &headers, CALLER_IDENTITY).await
}

#[tokio::test]
async fn payload_hashes_query_strings_and_scopes() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let ok = |(status, body): (u16, String)| {
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("<Account>111111111111</Account>"), "{body}");
    };
    ok(sts_call(&emulator, &Signing::caller("sts"), "/").await);
    // The signature covers the query string, encoded as the spec says.
    ok(sts_call(&emulator, &Signing::caller("sts"), "/?b=2&a=x%20y&a=1").await);
    // x-amz-content-sha256 with the body's hash, or UNSIGNED-PAYLOAD.
    let hashed = Signing {
        content_sha256: true,
        ..Signing::caller("sts")
    };
    ok(sts_call(&emulator, &hashed, "/").await);
    let unsigned = Signing {
        content_sha256: true,
        unsigned_payload: true,
        ..Signing::caller("sts")
    };
    ok(sts_call(&emulator, &unsigned, "/").await);

    // A body or query changed after signing no longer matches.
    let signed = Signing::caller("sts").sign("localhost", "/?a=1", &[FORM], CALLER_IDENTITY);
    let signed: Vec<&str> = signed.iter().map(String::as_str).collect();
    for (path, body) in [
        ("/?a=2", CALLER_IDENTITY),
        ("/?a=1", "Action=GetCallerIdentity&Version=2011-06-16"),
    ] {
        let (status, answer) = http(&emulator, "POST", path, &signed, body).await;
        assert_eq!(status, 403);
        assert!(
            answer.contains("<Code>SignatureDoesNotMatch</Code>"),
            "{answer}"
        );
    }
    // A payload hash header that is not the body's hash.
    let lying: Vec<&str> = signed
        .iter()
        .copied()
        .chain(["x-amz-content-sha256: 0000"])
        .collect();
    let (status, answer) = http(&emulator, "POST", "/?a=1", &lying, CALLER_IDENTITY).await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer.contains("&apos;x-amz-content-sha256&apos; header does not match"),
        "{answer}"
    );

    for region in ["moon-1", "e2e-0"] {
        let (status, answer) = sts_call(
            &emulator,
            &Signing {
                region: region.to_owned(),
                ..Signing::caller("sts")
            },
            "/",
        )
        .await;
        assert_eq!(status, 403);
        assert!(
            answer.contains(&format!(
                "Credential should be scoped to a valid region, not &apos;{region}&apos;. "
            )),
            "{answer}"
        );
    }
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn incomplete_and_missing_signatures() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let signed = Signing::caller("sts").sign("localhost", "/", &[FORM], CALLER_IDENTITY);
    // The scope's date must be the request's.
    let other_day: Vec<String> = signed
        .iter()
        .map(|h| match h.strip_prefix("x-amz-date: ") {
            Some(date) => format!("x-amz-date: {}01T000000Z", &date[..6]),
            None => h.clone(),
        })
        .collect();
    let other_day: Vec<&str> = other_day.iter().map(String::as_str).collect();
    let (status, answer) = http(&emulator, "POST", "/", &other_day, CALLER_IDENTITY).await;
    assert_eq!(status, 403);
    assert!(
        answer.contains("Date in Credential scope does not match YYYYMMDD")
            || answer.contains("Signature expired"),
        "{answer}"
    );
    let without_signature: Vec<String> = signed
        .iter()
        .map(|h| match h.split_once(", Signature=") {
            Some((kept, _)) => kept.to_owned(),
            None => h.clone(),
        })
        .collect();
    let without_signature: Vec<&str> = without_signature.iter().map(String::as_str).collect();
    let (status, answer) = http(&emulator, "POST", "/", &without_signature, CALLER_IDENTITY).await;
    assert_eq!(status, 400);
    assert!(
        answer.contains("<Code>IncompleteSignature</Code>"),
        "{answer}"
    );
    assert!(
        answer.contains("requires &apos;Signature&apos; parameter"),
        "{answer}"
    );

    let json = [
        "X-Amz-Target: AWSOrganizationsV20161128.ListRoots",
        "Content-Type: application/x-amz-json-1.1",
    ];
    let (status, answer) = http(&emulator, "POST", "/", &json, "{}").await;
    assert_eq!(status, 400);
    assert!(
        answer.contains("\"__type\":\"MissingAuthenticationTokenException\""),
        "{answer}"
    );
    emulator.shutdown().await.unwrap();
}
