//! Code generated from `proto/` by `build.rs`. Modules mirror the protobuf
//! packages because generated code refers to other packages by relative path.

pub mod clientvolg {
    pub mod v1 {
        tonic::include_proto!("clientvolg.v1");
    }
}

pub mod google {
    pub mod r#type {
        tonic::include_proto!("google.r#type");
    }
}

/// The encoded descriptor set of every file in `proto/`, served by reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("clientvolg_descriptor");
