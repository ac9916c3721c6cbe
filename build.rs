//! Compiles the API contract in `proto/` into Rust with protox (a pure-Rust
//! protobuf compiler), so that a fresh machine needs no system `protoc`. The
//! encoded descriptor set is written to OUT_DIR for server reflection.

use prost::Message;
use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "clientvolg/v1/common.proto",
    "clientvolg/v1/client.proto",
    "clientvolg/v1/registration.proto",
    "clientvolg/v1/classification.proto",
    "clientvolg/v1/doelgroep.proto",
    "clientvolg/v1/provider.proto",
    "clientvolg/v1/contract.proto",
    "clientvolg/v1/trajectory.proto",
    "clientvolg/v1/progress_report.proto",
    "clientvolg/v1/report.proto",
    "clientvolg/v1/processing_log.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(PROTOS, ["proto"])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("clientvolg_descriptor.bin"),
        fds.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Undecodable requests answer INVALID_ARGUMENT, not INTERNAL.
        .codec_path("crate::api::codec::EdgeCodec")
        .compile_fds(fds)?;
    Ok(())
}
