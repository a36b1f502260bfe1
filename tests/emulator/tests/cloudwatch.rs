//! PutMetricData: the Rust SDK's rpc-v2-cbor (plain and gzipped).

use crate::common::*;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit, StatisticSet};
use aws_smithy_types::DateTime as SdkDateTime;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::DateTime;
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
async fn a_datum_without_a_name_is_refused_and_nothing_stored() {
    let emulator = Emulator::start(test_org()).await.unwrap();
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
    assert!(
        emulator.metrics().is_empty(),
        "nothing stored from a refused request"
    );
    emulator.shutdown().await.unwrap();
}

/// One datum named `name` with `value`, and `dimensions` dimensions.
fn datum(value: f64, dimensions: usize) -> MetricDatum {
    (0..dimensions)
        .fold(
            MetricDatum::builder().metric_name("Runs").value(value),
            |datum, i| {
                datum.dimensions(
                    Dimension::builder()
                        .name(format!("D{i}"))
                        .value("v")
                        .build(),
                )
            },
        )
        .build()
}

#[tokio::test]
async fn limits_of_put_metric_data_over_cbor() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let client = Client::new(&without_retries(&caller_config(&emulator).await));
    let put = |data: Vec<MetricDatum>| {
        client
            .put_metric_data()
            .namespace("RootSweep")
            .set_metric_data(Some(data))
            .send()
    };
    // At the limits: 1,000 metrics of 30 dimensions, values at +-2^360 and 0.
    let edge = 2f64.powi(360);
    let mut data: Vec<MetricDatum> = (0..997).map(|i| datum(f64::from(i), 30)).collect();
    data.extend([datum(edge, 0), datum(-edge, 0), datum(0.0, 0)]);
    put(data).await.unwrap();
    assert_eq!(emulator.metrics().len(), 1000);

    let too_many: Vec<MetricDatum> = (0..1001).map(|_| datum(1.0, 0)).collect();
    let cases = [
        (
            too_many,
            "The collection MetricData must not have a size greater than 1000.",
        ),
        (
            vec![datum(1.0, 0), datum(1.0, 31)],
            "The collection MetricData.member.2.Dimensions must not have a size greater than 30.",
        ),
        (
            vec![datum(f64::NAN, 0)],
            "The value NaN for parameter MetricData.member.1.Value is invalid.",
        ),
        (
            vec![datum(f64::INFINITY, 0)],
            "The value Infinity for parameter MetricData.member.1.Value is invalid.",
        ),
        (
            vec![datum(edge * 2.0, 0)],
            "for parameter MetricData.member.1.Value is invalid.",
        ),
        (
            vec![datum(1e-200, 0)],
            "for parameter MetricData.member.1.Value is invalid.",
        ),
    ];
    for (data, says) in cases {
        let error = put(data).await.unwrap_err();
        let raw = error.raw_response().unwrap();
        assert_eq!(raw.status().as_u16(), 400);
        assert_eq!(
            raw.headers().get("x-amzn-query-error"),
            Some("InvalidParameterValue;Sender")
        );
        let body: ciborium::Value = ciborium::from_reader(raw.body().bytes().unwrap()).unwrap();
        let kind = body
            .as_map()
            .unwrap()
            .iter()
            .find(|(k, _)| k.as_text() == Some("__type"));
        assert_eq!(
            kind.and_then(|(_, v)| v.as_text()),
            Some("com.amazonaws.cloudwatch#InvalidParameterValueException")
        );
        let error = error.into_service_error();
        assert!(error.is_invalid_parameter_value_exception(), "{error:?}");
        assert!(
            error.message().unwrap().ends_with(says),
            "{:?}",
            error.message()
        );
    }
    let values = MetricDatum::builder()
        .metric_name("Latency")
        .set_values(Some(vec![1.0; 151]))
        .build();
    let error = put(vec![values]).await.unwrap_err().into_service_error();
    assert_eq!(
        error.message(),
        Some("The collection MetricData.member.1.Values must not have a size greater than 150.")
    );
    let uneven = MetricDatum::builder()
        .metric_name("Latency")
        .values(1.0)
        .values(2.0)
        .counts(1.0)
        .build();
    let error = put(vec![uneven]).await.unwrap_err().into_service_error();
    assert!(
        error.is_invalid_parameter_combination_exception(),
        "{error:?}"
    );
    assert_eq!(
        emulator.metrics().len(),
        1000,
        "nothing stored from a refused request"
    );
    emulator.shutdown().await.unwrap();
}
