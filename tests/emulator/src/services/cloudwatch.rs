//! CloudWatch `PutMetricData`, in whichever protocol it arrives; every datum is stored for tests.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Service;
use crate::error::ApiError;
use crate::protocol::{Input, Reply, list, number, timestamp};
use crate::session::Caller;
use crate::world::World;

/// One stored metric datum, as `/_emulator/metrics` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDatum {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<Dimension>,
    pub timestamp: Option<DateTime<Utc>>,
    pub value: Option<f64>,
    pub values: Vec<f64>,
    pub counts: Vec<f64>,
    pub statistic_values: Option<StatisticSet>,
    pub unit: Option<String>,
    pub storage_resolution: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatisticSet {
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
}

pub fn call(
    world: &mut World,
    caller: &Caller,
    operation: &str,
    input: &Input,
) -> Result<Reply, ApiError> {
    if let Caller::Root(_) = caller {
        return Err(Service::CloudWatch.access_denied(format!(
            "User: {} is not authorized to perform: cloudwatch:{operation}",
            caller.arn()
        )));
    }
    if operation != "PutMetricData" {
        return Err(Service::CloudWatch.unknown_operation(operation));
    }
    let namespace = input.str("Namespace").ok_or_else(|| missing("Namespace"))?;
    let data = list(input.get("MetricData"));
    if data.is_empty() {
        return Err(missing("MetricData"));
    }
    // All or nothing, as CloudWatch validates the whole request before storing.
    let parsed = data
        .iter()
        .enumerate()
        .map(|(i, datum)| parse_datum(namespace, datum, &format!("MetricData.member.{}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    world.metrics.extend(parsed);
    Ok(Reply::Empty)
}

fn parse_datum(namespace: &str, datum: &Value, at: &str) -> Result<MetricDatum, ApiError> {
    let text = |name: &str| datum.get(name).and_then(Value::as_str).map(str::to_owned);
    let num = |name: &str| -> Result<Option<f64>, ApiError> {
        datum
            .get(name)
            .map(|v| number(v).ok_or_else(|| invalid(&format!("{at}.{name}"), v)))
            .transpose()
    };
    let numbers = |name: &str| -> Result<Vec<f64>, ApiError> {
        list(datum.get(name))
            .iter()
            .map(|v| number(v).ok_or_else(|| invalid(&format!("{at}.{name}"), v)))
            .collect()
    };
    let dimensions = list(datum.get("Dimensions"))
        .iter()
        .map(|d| {
            let part = |name: &str| d.get(name).and_then(Value::as_str).map(str::to_owned);
            Ok(Dimension {
                name: part("Name").ok_or_else(|| missing(&format!("{at}.Dimensions.Name")))?,
                value: part("Value").ok_or_else(|| missing(&format!("{at}.Dimensions.Value")))?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let statistic_values = match datum.get("StatisticValues") {
        None => None,
        Some(set) => {
            let field = |name: &str| {
                set.get(name)
                    .and_then(number)
                    .ok_or_else(|| missing(&format!("{at}.StatisticValues.{name}")))
            };
            Some(StatisticSet {
                sample_count: field("SampleCount")?,
                sum: field("Sum")?,
                minimum: field("Minimum")?,
                maximum: field("Maximum")?,
            })
        }
    };
    Ok(MetricDatum {
        namespace: namespace.to_owned(),
        metric_name: text("MetricName").ok_or_else(|| missing(&format!("{at}.MetricName")))?,
        dimensions,
        timestamp: datum
            .get("Timestamp")
            .map(|v| timestamp(v).ok_or_else(|| invalid(&format!("{at}.Timestamp"), v)))
            .transpose()?,
        value: num("Value")?,
        values: numbers("Values")?,
        counts: numbers("Counts")?,
        statistic_values,
        unit: text("Unit"),
        storage_resolution: num("StorageResolution")?.map(|n| n as u64),
    })
}

fn missing(parameter: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "MissingParameter",
        format!("The parameter {parameter} is required."),
    )
}

fn invalid(parameter: &str, value: &Value) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
        format!("The value {value} for parameter {parameter} is invalid."),
    )
}
