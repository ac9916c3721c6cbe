//! The protobuf codec of every service: prost's, except that a request body
//! that is not a valid encoding of its message answers INVALID_ARGUMENT.
//! tonic (following gRPC's status-code table) answers INTERNAL there; here a
//! caller's mistake never becomes INTERNAL, which is kept for our own
//! failures. `build.rs` puts this codec into the generated code, servers and
//! clients alike; to a client, a response that does not decode would then
//! also be INVALID_ARGUMENT.

use prost::Message;
use std::marker::PhantomData;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic_prost::ProstEncoder;

pub struct EdgeCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for EdgeCodec<T, U> {
    fn default() -> Self {
        EdgeCodec(PhantomData)
    }
}

impl<T, U> Codec for EdgeCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = EdgeDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        EdgeDecoder(PhantomData)
    }
}

pub struct EdgeDecoder<U>(PhantomData<U>);

impl<U: Message + Default> Decoder for EdgeDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf).map(Some).map_err(|err| {
            Status::invalid_argument(format!("the message is not a valid encoding: {err}"))
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}
