//! A compact wire form for what the first page load needs: postcard bytes, base64 in the page.
//! Leptos's default codec is JSON, which puts serde_json's parser (about a tenth of the wasm)
//! into the first download; everything the home page and header fetch uses this instead.

use codee::{Decoder, Encoder};
use serde::{Serialize, de::DeserializeOwned};

/// A resource codec: `Resource::<T, Postcard>::new_with_options(…)`. Server functions take
/// `output = leptos::server_fn::codec::Postcard`, which is the same format over HTTP.
pub struct Postcard;

impl<T: Serialize> Encoder<T> for Postcard {
    type Error = postcard::Error;
    type Encoded = Vec<u8>;

    fn encode(value: &T) -> Result<Vec<u8>, postcard::Error> {
        postcard::to_allocvec(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Postcard {
    type Error = postcard::Error;
    type Encoded = [u8];

    fn decode(bytes: &[u8]) -> Result<T, postcard::Error> {
        postcard::from_bytes(bytes)
    }
}
