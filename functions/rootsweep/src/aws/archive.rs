//! The run archive in S3 through the SDK.

use aws_sdk_s3::primitives::ByteStream;
use futures::FutureExt;

use super::aws_error;
use crate::ports::{Archive, AwsError, AwsErrorKind, Call};

#[derive(Clone)]
pub struct S3Archive {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Archive {
    pub fn new(client: aws_sdk_s3::Client, bucket: String) -> Self {
        Self { client, bucket }
    }

    async fn put_object(&self, key: &str, body: Vec<u8>) -> Result<(), AwsError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/gzip")
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|err| aws_error("s3:PutObject", err))
    }

    async fn list_keys(
        &self,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<Vec<String>, AwsError> {
        let pages: Vec<_> = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_start_after(start_after.map(str::to_owned))
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|err| aws_error("s3:ListBucket", err))?;
        Ok(pages
            .iter()
            .flat_map(|page| page.contents())
            .filter_map(|o| o.key().map(str::to_owned))
            .collect())
    }

    async fn get_object(&self, key: &str) -> Result<Vec<u8>, AwsError> {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|err| aws_error("s3:GetObject", err))?;
        let body = output.body.collect().await.map_err(|err| {
            AwsError::new(
                "s3:GetObject",
                AwsErrorKind::Other,
                format!("reading {key}: {err}"),
            )
        })?;
        Ok(body.into_bytes().to_vec())
    }
}

impl Archive for S3Archive {
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> Call<'a, ()> {
        self.put_object(key, body).boxed()
    }

    fn list<'a>(&'a self, prefix: &'a str, start_after: Option<&'a str>) -> Call<'a, Vec<String>> {
        self.list_keys(prefix, start_after).boxed()
    }

    fn get<'a>(&'a self, key: &'a str) -> Call<'a, Vec<u8>> {
        self.get_object(key).boxed()
    }
}
