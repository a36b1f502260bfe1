//! PutMetricData: the Rust SDK's rpc-v2-cbor (plain and gzipped) and the query protocol.

mod common;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit, StatisticSet};
use aws_smithy_types::DateTime as SdkDateTime;
use chrono::DateTime;
use common::*;
use rootsweep_emulator::{Emulator, Protocol};

#[tokio::test]
async fn small_batch_is_stored_field_by_field() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let client = Client::new(&caller_config(&emulator).await);
    let mode = Dimension::builder().name("Mode").value("enforce").build();
    client
        .put_metric_data()
        .namespace("RootSweep")
        .metric_data(
            MetricDatum::builder()
                .metric_name("AccountsRemediated")
                .dimensions(mode.clone())
                .timestamp(SdkDateTime::from_secs_f64(1_742_034_225.25))
                .value(3.0)
                .unit(StandardUnit::Count)
                .storage_resolution(60)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("AuditLatency")
                .values(1.5)
                .values(2.5)
                .counts(4.0)
                .counts(1.0)
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Sessions")
                .statistic_values(
                    StatisticSet::builder()
                        .sample_count(2.0)
                        .sum(10.0)
                        .minimum(4.0)
                        .maximum(6.0)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();

    let metrics = emulator.metrics();
    assert_eq!(metrics.len(), 3);
    let first = &metrics[0];
    assert_eq!(
        (first.namespace.as_str(), first.metric_name.as_str()),
        ("RootSweep", "AccountsRemediated")
    );
    assert_eq!(first.dimensions[0].name, "Mode");
    assert_eq!(first.dimensions[0].value, "enforce");
    assert_eq!(first.value, Some(3.0));
    assert_eq!(first.unit.as_deref(), Some("Count"));
    assert_eq!(first.storage_resolution, Some(60));
    assert_eq!(
        first.timestamp,
        DateTime::from_timestamp_micros(1_742_034_225_250_000)
    );
    assert_eq!(
        (metrics[1].values.as_slice(), metrics[1].counts.as_slice()),
        ([1.5, 2.5].as_slice(), [4.0, 1.0].as_slice())
    );
    let set = metrics[2].statistic_values.as_ref().unwrap();
    assert_eq!(
        (set.sample_count, set.sum, set.minimum, set.maximum),
        (2.0, 10.0, 4.0, 6.0)
    );

    let call = emulator.calls().pop().unwrap();
    assert_eq!(
        (call.operation.as_str(), call.protocol, call.gzip),
        ("PutMetricData", Protocol::RpcV2Cbor, false)
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn large_batch_arrives_gzipped_and_complete() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let client = Client::new(&caller_config(&emulator).await);
    let data: Vec<MetricDatum> = (0..500)
        .map(|i| {
            MetricDatum::builder()
                .metric_name("AccountOutcome")
                .dimensions(
                    Dimension::builder()
                        .name("AccountId")
                        .value(format!("{:012}", i))
                        .build(),
                )
                .dimensions(
                    Dimension::builder()
                        .name("Outcome")
                        .value("in-grace")
                        .build(),
                )
                .value(f64::from(i))
                .unit(StandardUnit::Count)
                .build()
        })
        .collect();
    client
        .put_metric_data()
        .namespace("RootSweep")
        .set_metric_data(Some(data))
        .send()
        .await
        .unwrap();

    let metrics = emulator.metrics();
    assert_eq!(metrics.len(), 500);
    assert!(
        metrics
            .iter()
            .enumerate()
            .all(|(i, m)| m.value == Some(i as f64)
                && m.dimensions[0].value == format!("{i:012}")
                && m.dimensions[1].value == "in-grace")
    );
    let call = emulator.calls().pop().unwrap();
    assert!(call.gzip, "a large body is gzip-compressed by the SDK");
    assert_eq!(call.status, 200);
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn query_protocol_and_validation() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let signing = Signing::caller("monitoring");
    let form = "Content-Type: application/x-www-form-urlencoded; charset=utf-8";
    let (status, body) = signed_post(
        &emulator,
        &signing,
        &[form],
        "Action=PutMetricData&Version=2010-08-01&Namespace=RootSweep\
         &MetricData.member.1.MetricName=Runs&MetricData.member.1.Value=1\
         &MetricData.member.1.Timestamp=2025-03-15T10%3A23%3A45Z\
         &MetricData.member.1.Dimensions.member.1.Name=Mode&MetricData.member.1.Dimensions.member.1.Value=audit",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("<PutMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><ResponseMetadata>"));
    let stored = emulator.metrics().pop().unwrap();
    assert_eq!(stored.metric_name, "Runs");
    assert_eq!(stored.value, Some(1.0));
    assert_eq!(
        stored.timestamp.unwrap().to_rfc3339(),
        "2025-03-15T10:23:45+00:00"
    );
    assert_eq!(stored.dimensions[0].value, "audit");
    assert_eq!(emulator.calls().pop().unwrap().protocol, Protocol::Query);

    let (status, body) = signed_post(
        &emulator,
        &signing,
        &[form],
        "Action=PutMetricData&MetricData.member.1.Value=1",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>MissingParameter</Code>"), "{body}");

    // The SDK's own client-side validation would stop a datum without a name; the server checks too.
    let client = Client::new(&caller_config(&emulator).await);
    let error = client
        .put_metric_data()
        .namespace("RootSweep")
        .metric_data(MetricDatum::builder().value(1.0).build())
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .into_service_error()
            .is_missing_required_parameter_exception()
    );
    assert_eq!(
        emulator.metrics().len(),
        1,
        "nothing stored from a refused request"
    );
    emulator.shutdown().await.unwrap();
}
