//! The run ledger's object in S3, through the SDK, with conditional writes.

use aws_sdk_s3::primitives::ByteStream;
use futures::FutureExt;

use super::aws_error;
use crate::config::StateLocation;
use crate::ports::{AwsError, AwsErrorKind, Call, StateStore, Stored};

#[derive(Clone)]
pub struct S3State {
    client: aws_sdk_s3::Client,
    at: StateLocation,
}

/// Answers to a conditional write that mean another writer came first: 412 `PreconditionFailed`
/// (the ETag changed, or the object now exists), 409 `ConditionalRequestConflict` (a write at
/// the same moment: "retry the upload"), and 404 `NoSuchKey` (`If-Match` on an object someone
/// deleted). PutObject, S3 API Reference.
const ANOTHER_WRITER: [&str; 3] = [
    "PreconditionFailed",
    "ConditionalRequestConflict",
    "NoSuchKey",
];

impl S3State {
    pub fn new(client: aws_sdk_s3::Client, at: StateLocation) -> Self {
        Self { client, at }
    }

    async fn get(&self) -> Result<Option<Stored>, AwsError> {
        let output = match self
            .client
            .get_object()
            .bucket(&self.at.bucket)
            .key(&self.at.key)
            .send()
            .await
        {
            Ok(output) => output,
            Err(err) => {
                let err = aws_error("s3:GetObject", err);
                return if err.has_code("NoSuchKey") {
                    Ok(None)
                } else {
                    Err(err)
                };
            }
        };
        let version = output.e_tag().map(str::to_owned).ok_or_else(|| {
            AwsError::new(
                "s3:GetObject",
                AwsErrorKind::Other,
                format!("{} came back without an ETag", self.at),
            )
        })?;
        let body = output.body.collect().await.map_err(|err| {
            AwsError::new(
                "s3:GetObject",
                AwsErrorKind::Other,
                format!("reading {}: {err}", self.at),
            )
        })?;
        Ok(Some(Stored {
            body: body.into_bytes().to_vec(),
            version,
        }))
    }

    async fn put(&self, body: Vec<u8>, version: Option<&str>) -> Result<Option<String>, AwsError> {
        let request = self
            .client
            .put_object()
            .bucket(&self.at.bucket)
            .key(&self.at.key)
            .content_type("application/gzip")
            .body(ByteStream::from(body));
        let request = match version {
            Some(etag) => request.if_match(etag),
            None => request.if_none_match("*"),
        };
        match request.send().await {
            Ok(output) => Ok(Some(output.e_tag().unwrap_or_default().to_owned())),
            Err(err) => {
                let err = aws_error("s3:PutObject", err);
                if ANOTHER_WRITER.iter().any(|code| err.has_code(code)) {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }
}

impl StateStore for S3State {
    fn load(&self) -> Call<'_, Option<Stored>> {
        self.get().boxed()
    }

    fn store<'a>(&'a self, body: Vec<u8>, version: Option<&'a str>) -> Call<'a, Option<String>> {
        self.put(body, version).boxed()
    }
}
