//! S3 through the AWS SDK for Rust (path-style against the emulator's IP endpoint): PutObject of
//! in-memory bodies (plain, with a CRC32 header: what rootsweep sends), GetObject, HeadObject,
//! ListObjectsV2 paging; errors as S3 answers them, faults, records and the caller's policy from
//! the template. Hand-made requests cover plain bodies with checksums and payload hashes.

use crate::common::*;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rootsweep_emulator::{Emulator, EmulatorHandle, Fault, FaultKind, Protocol, TemplatePolicy};

const BUCKET: &str = "rootsweep-archive";
const KEY: &str = "rootsweep/runs/date=2026-12-02/run-0001.jsonl.gz";

async fn emulator() -> EmulatorHandle {
    Emulator::new(test_org())
        .bucket(BUCKET)
        .spawn()
        .await
        .unwrap()
}

async fn client(emulator: &EmulatorHandle) -> Client {
    Client::new(&without_retries(&caller_config(emulator).await))
}

async fn put(client: &Client, key: &str, body: ByteStream) -> Result<String, aws_sdk_s3::Error> {
    let output = client
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .content_type("application/gzip")
        .metadata("run-id", "0001")
        .body(body)
        .send()
        .await?;
    Ok(output.e_tag().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn put_get_and_head_in_memory_bodies() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    let bytes: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let etag = put(&client, KEY, ByteStream::from(bytes.clone()))
        .await
        .unwrap();
    let stored = emulator.object(BUCKET, KEY).unwrap();
    assert_eq!(etag, stored.etag);
    assert_eq!(stored.body, bytes);
    assert_eq!(stored.checksum_algorithm.as_deref(), Some("CRC32"));

    let got = client
        .get_object()
        .bucket(BUCKET)
        .key(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/gzip"));
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("run-id"))
            .map(String::as_str),
        Some("0001")
    );
    assert_eq!(got.content_length(), Some(70_000));
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        bytes.as_slice()
    );

    let head = client
        .head_object()
        .bucket(BUCKET)
        .key(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(70_000));
    assert!(head.last_modified().is_some());
    let object = emulator.object(BUCKET, KEY).unwrap();
    assert_eq!(
        (object.size, object.content_type.as_str()),
        (70_000, "application/gzip")
    );
    assert_eq!(
        object.metadata.get("run-id").map(String::as_str),
        Some("0001")
    );
}

#[tokio::test]
async fn missing_keys_buckets_and_unknown_operations() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    let missing = client.get_object().bucket(BUCKET).key("nope").send().await;
    let missing = missing.unwrap_err().into_service_error();
    assert!(missing.is_no_such_key(), "{missing:?}");
    assert_eq!(missing.message(), Some("The specified key does not exist."));
    let head = client.head_object().bucket(BUCKET).key("nope").send().await;
    assert!(head.unwrap_err().into_service_error().is_not_found());
    let listed = client
        .list_objects_v2()
        .bucket("no-such-bucket")
        .send()
        .await;
    let listed = listed.unwrap_err().into_service_error();
    assert!(listed.is_no_such_bucket(), "{listed:?}");
    let put = put(&client, "k", ByteStream::from_static(b"x")).await;
    assert!(put.is_ok());
    let elsewhere = client
        .put_object()
        .bucket("other-bucket")
        .key("k")
        .send()
        .await;
    assert_eq!(elsewhere.unwrap_err().code(), Some("NoSuchBucket"));
    let copy = client
        .copy_object()
        .bucket(BUCKET)
        .key("copy")
        .copy_source(format!("{BUCKET}/k"))
        .send()
        .await;
    assert_eq!(copy.unwrap_err().code(), Some("NotImplemented"));

    let wire = signed(
        &emulator,
        &s3_signing(),
        "GET",
        "/rootsweep-archive/nope",
        &[],
        "",
    )
    .await;
    assert_eq!(wire.status, 404);
    assert!(wire.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>nope</Key><RequestId>"), "{}", wire.body);
    assert!(wire.header("x-amz-request-id").is_some() && wire.header("x-amz-id-2").is_some());
}

#[tokio::test]
async fn list_objects_v2_pages_in_binary_order() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    let keys = [
        "rootsweep/runs/date=2026-12-01/a.gz",
        "rootsweep/runs/date=2026-12-02/b.gz",
        "rootsweep/runs/date=2026-12-02/c d+e.gz",
        "rootsweep/runs/date=2026-12-03/f.gz",
        "rootsweep/zz.gz",
        "other/x",
        "rootsweep/runs/Émile.gz",
    ];
    for key in keys {
        put(&client, key, ByteStream::from_static(b"{}"))
            .await
            .unwrap();
    }
    let pages: Vec<_> = client
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("rootsweep/runs/")
        .start_after("rootsweep/runs/date=2026-12-01/a.gz")
        .max_keys(2)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .unwrap();
    let listed: Vec<Vec<&str>> = pages
        .iter()
        .map(|page| page.contents().iter().filter_map(|o| o.key()).collect())
        .collect();
    assert_eq!(
        listed,
        [
            vec![
                "rootsweep/runs/date=2026-12-02/b.gz",
                "rootsweep/runs/date=2026-12-02/c d+e.gz"
            ],
            vec![
                "rootsweep/runs/date=2026-12-03/f.gz",
                "rootsweep/runs/Émile.gz"
            ],
        ]
    );
    assert_eq!(pages[0].is_truncated(), Some(true));
    assert_eq!(pages[0].key_count(), Some(2));
    assert_eq!(pages[1].is_truncated(), Some(false));
    assert_eq!(pages[0].contents()[0].size(), Some(2));

    let grouped = client
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("rootsweep/runs/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<&str> = grouped
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(
        prefixes,
        [
            "rootsweep/runs/date=2026-12-01/",
            "rootsweep/runs/date=2026-12-02/",
            "rootsweep/runs/date=2026-12-03/"
        ]
    );
    assert_eq!(grouped.contents().len(), 1, "Émile.gz, beside the prefixes");
    let bad = client
        .list_objects_v2()
        .bucket(BUCKET)
        .continuation_token("forged")
        .send()
        .await;
    assert_eq!(bad.unwrap_err().code(), Some("InvalidArgument"));
}

/// A hand-made PutObject: `body` to `path` with `headers`, signed by `signing`.
async fn put_by_hand(
    emulator: &EmulatorHandle,
    signing: &Signing,
    path: &str,
    headers: &[&str],
    body: &str,
) -> HttpResponse {
    signed(emulator, signing, "PUT", path, headers, body).await
}

/// A plain body with a CRC32 header, right and wrong; the payload hash S3 requires.
#[tokio::test]
async fn plain_bodies_checksums_and_payload_hashes() {
    let emulator = emulator().await;
    let path = "/rootsweep-archive/date%3D2026-12-02/hand.json";
    let crc = |value: &str| format!("x-amz-checksum-crc32: {value}");
    let ok = put_by_hand(
        &emulator,
        &s3_signing(),
        path,
        &[&crc("DUoRhQ==")],
        "hello world",
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.header("x-amz-checksum-crc32"), Some("DUoRhQ=="));
    let stored = emulator
        .object(BUCKET, "date=2026-12-02/hand.json")
        .unwrap();
    assert_eq!(stored.body, b"hello world");
    let wrong = put_by_hand(
        &emulator,
        &s3_signing(),
        path,
        &[&crc("AAAAAA==")],
        "hello world",
    )
    .await;
    assert_eq!(wrong.status, 400);
    assert!(
        wrong.body.contains("<Code>BadDigest</Code>"),
        "{}",
        wrong.body
    );

    let no_hash = put_by_hand(&emulator, &Signing::caller("s3"), path, &[], "x").await;
    assert_eq!(no_hash.status, 400);
    assert!(
        no_hash.body.contains("<Code>InvalidRequest</Code>"),
        "{}",
        no_hash.body
    );
    let unsigned = Signing {
        unsigned_payload: true,
        ..s3_signing()
    };
    let ok = put_by_hand(&emulator, &unsigned, path, &[], "unsigned").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn faults_records_root_sessions_and_the_templates_role() {
    let emulator = emulator().await;
    emulator.set_faults(vec![Fault::new("PutObject", FaultKind::Throttle).times(1)]);
    let retrying = Client::new(&caller_config(&emulator).await);
    put(&retrying, KEY, ByteStream::from_static(b"{}"))
        .await
        .unwrap();
    let calls = emulator.calls();
    let puts: Vec<_> = calls
        .iter()
        .filter(|c| c.operation == "PutObject")
        .collect();
    assert_eq!(puts.len(), 2);
    assert_eq!(
        (puts[0].service.as_deref(), puts[0].protocol),
        (Some("s3"), Protocol::RestXml)
    );
    assert_eq!(
        (puts[0].status, puts[0].error_code.as_deref()),
        (503, Some("SlowDown"))
    );
    assert_eq!(puts[1].status, 200);
    let root = root_session(&emulator, FULL, AUDIT).await;
    let denied = Client::new(&without_retries(&root))
        .get_object()
        .bucket(BUCKET)
        .key(KEY)
        .send()
        .await;
    assert_eq!(denied.unwrap_err().code(), Some("AccessDenied"));

    let policy = TemplatePolicy::parse(include_str!("../../../infra/template.yaml"))
        .unwrap()
        .parameter("ArchiveBucketName", BUCKET);
    let deployed = Emulator::new(test_org())
        .bucket(BUCKET)
        .caller_policy(policy)
        .spawn()
        .await
        .unwrap();
    let client = client(&deployed).await;
    put(&client, KEY, ByteStream::from_static(b"{}"))
        .await
        .unwrap();
    let outside = put(&client, "elsewhere/x", ByteStream::from_static(b"{}"))
        .await
        .unwrap_err();
    assert_eq!(outside.code(), Some("AccessDenied"));
    assert_eq!(
        outside.message(),
        Some(
            "User: arn:aws:sts::111111111111:assumed-role/RootSweep/emulator is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::rootsweep-archive/elsewhere/x because no identity-based policy allows the s3:PutObject action"
        )
    );
    let list = client
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap_err();
    assert!(
        list.message()
            .unwrap()
            .contains("s3:ListBucket on resource: arn:aws:s3:::rootsweep-archive ")
    );
}

/// A compare-and-swap as the run ledger makes it: create with `If-None-Match: *`, replace with
/// `If-Match` on the ETag read; whoever wrote in between makes the write fail with 412.
#[tokio::test]
async fn conditional_writes_create_once_and_replace_only_the_version_read() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    let key = "rootsweep/ledger.json.gz";
    let write = |body: &'static [u8], if_match: Option<&str>, create: bool| {
        client
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from_static(body))
            .set_if_match(if_match.map(str::to_owned))
            .set_if_none_match(create.then(|| "*".to_owned()))
            .send()
    };
    let first = write(b"v1", None, true).await.unwrap();
    let v1 = first.e_tag().unwrap().to_owned();
    let again = write(b"v1 again", None, true).await.unwrap_err();
    assert_eq!(
        (
            again.code(),
            again.raw_response().unwrap().status().as_u16()
        ),
        (Some("PreconditionFailed"), 412)
    );
    let second = write(b"v2", Some(&v1), false).await.unwrap();
    let v2 = second.e_tag().unwrap().to_owned();
    assert_ne!(v1, v2);
    let stale = write(b"v3 from v1", Some(&v1), false).await.unwrap_err();
    assert_eq!(
        (
            stale.code(),
            stale.raw_response().unwrap().status().as_u16()
        ),
        (Some("PreconditionFailed"), 412)
    );
    assert_eq!(emulator.object(BUCKET, key).unwrap().body, b"v2");
    let missing = client
        .put_object()
        .bucket(BUCKET)
        .key("rootsweep/nothing-here")
        .if_match(&v2)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("NoSuchKey"));
}

/// `PUT /_emulator/objects/BUCKET/KEY` rewrites an object as a put would: new bytes, a new ETag,
/// so a writer holding the old ETag loses its conditional write.
#[tokio::test]
async fn the_admin_api_rewrites_an_object_with_a_new_etag() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    let key = "rootsweep/ledger.json.gz";
    let put = client
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from_static(b"v1"))
        .send()
        .await
        .unwrap();
    let path = format!("/_emulator/objects/{BUCKET}/{key}");
    let (status, _) = http(&emulator, "PUT", &path, &[], "aged").await;
    assert_eq!(status, 204);
    let object = emulator.object(BUCKET, key).unwrap();
    assert_eq!((object.body.as_slice(), object.size), (&b"aged"[..], 4));
    // The MD5 of "aged", computed by `printf aged | md5sum`.
    assert_eq!(object.etag, "\"bab17bcb492d11de982bc2df476a7b84\"");
    let stale = client
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .if_match(put.e_tag().unwrap())
        .body(ByteStream::from_static(b"v2"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Some("PreconditionFailed"));
    let (status, _) = http(&emulator, "PUT", "/_emulator/objects/nobucket/x", &[], "x").await;
    assert_eq!(status, 404);
}

/// A key that does not exist reads as 404 only to a caller who may list the bucket: to any
/// other it is 403, as a key it may not read.
#[tokio::test]
async fn a_missing_key_is_denied_to_a_caller_who_may_not_list_the_bucket() {
    let template = |list: &str| {
        format!(
            r#"
Resources:
  Function:
    Type: AWS::Serverless::Function
    Properties:
      Role: !GetAtt Role.Arn
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: objects
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [s3:GetObject, s3:PutObject]
                Resource: arn:aws:s3:::{BUCKET}/*
              - Effect: Allow
                Action: {list}
                Resource: arn:aws:s3:::{BUCKET}
"#
        )
    };
    for (may_list, expected) in [(false, "AccessDenied"), (true, "NoSuchKey")] {
        // Without ListBucket, the bucket is granted something else.
        let text = template(if may_list {
            "s3:ListBucket"
        } else {
            "s3:GetBucketLocation"
        });
        let policy = TemplatePolicy::parse(&text).unwrap();
        let deployed = Emulator::new(test_org())
            .bucket(BUCKET)
            .caller_policy(policy)
            .spawn()
            .await
            .unwrap();
        let client = client(&deployed).await;
        let missing = client
            .get_object()
            .bucket(BUCKET)
            .key("rootsweep/ledger.json.gz")
            .send()
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Some(expected), "may list: {may_list}");
    }
}

/// The caller signing for S3, with `x-amz-content-sha256` as S3 requires.
fn s3_signing() -> Signing {
    Signing {
        content_sha256: true,
        ..Signing::caller("s3")
    }
}
