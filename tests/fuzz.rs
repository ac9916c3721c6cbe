//! Every RPC fed random and malformed messages, on both databases. For each
//! RPC of the enforced policy table and each role allowed to call it, the
//! test sends random bytes as the request body, truncated and bit-flipped
//! encodings, and well-formed requests full of random values (unicode, huge
//! and empty strings, unknown enum numbers, impossible dates, negative
//! numbers, resource names of other gemeenten and of nothing, `../`). The
//! requests are built from the API's own descriptors, so a new RPC or field
//! is fuzzed without touching this file.
//!
//! Every answer must be a clean status: never INTERNAL or UNKNOWN, never a
//! broken connection. No call may leave half a change: a refused call and a
//! read change no row of any history table, and after the run the history
//! keeps its invariants (`common/history.rs`). Finally the server still
//! serves.
//!
//! The run is deterministic for a seed; a failure prints it. Replay or
//! explore with `CLIENTVOLG_FUZZ_SEED=<n> cargo test --test fuzz`, and search
//! longer with `CLIENTVOLG_FUZZ_CASES=<n>` (15 per RPC and role by default).

#[macro_use]
mod common;
#[path = "common/history.rs"]
mod history;

use clientvolg::auth::Role;
use clientvolg::auth::policy::POLICY;
use clientvolg::proto::FILE_DESCRIPTOR_SET;
use clientvolg::proto::clientvolg::v1;
use common::*;
use prost::Message;
use prost::bytes::{Buf, BufMut};
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorSet};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::{Code, Request, Status};

const DEFAULT_SEED: u64 = 0x0006_ed9e_f022;
/// Requests per RPC and role, in turn: random bytes, a mangled encoding, a
/// plausible request, a plausible request with a random field or two, a
/// well-formed request with random values.
/// `CLIENTVOLG_FUZZ_CASES` sets another number, to search longer.
const CASES: usize = 15;

fn cases() -> usize {
    match std::env::var("CLIENTVOLG_FUZZ_CASES") {
        Ok(raw) => raw
            .parse()
            .unwrap_or_else(|_| panic!("CLIENTVOLG_FUZZ_CASES={raw:?} is not a number")),
        Err(_) => CASES,
    }
}

fn seed() -> u64 {
    match std::env::var("CLIENTVOLG_FUZZ_SEED") {
        Ok(raw) => raw
            .parse()
            .unwrap_or_else(|_| panic!("CLIENTVOLG_FUZZ_SEED={raw:?} is not a number")),
        Err(_) => DEFAULT_SEED,
    }
}

// ---------------------------------------------------------------------------
// A deterministic random source
// ---------------------------------------------------------------------------

/// SplitMix64: tiny, fast, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `num / den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next() % den < num
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn uuid(&mut self) -> uuid::Uuid {
        uuid::Uuid::from_u64_pair(self.next(), self.next())
    }
}

// ---------------------------------------------------------------------------
// The API's shape, from its descriptors
// ---------------------------------------------------------------------------

struct Schema {
    /// Fully qualified message name (`.clientvolg.v1.Client`) → descriptor.
    messages: HashMap<String, DescriptorProto>,
    /// Fully qualified enum name → its numbers.
    enums: HashMap<String, Vec<i32>>,
    /// gRPC path of every clientvolg method → its request message.
    methods: HashMap<String, String>,
    /// Every field name in the API: candidate update-mask paths.
    field_names: Vec<String>,
}

impl Schema {
    fn load() -> Schema {
        let set = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("the descriptor set");
        let mut schema = Schema {
            messages: HashMap::new(),
            enums: HashMap::new(),
            methods: HashMap::new(),
            field_names: Vec::new(),
        };
        for file in &set.file {
            let package = format!(".{}", file.package());
            for message in &file.message_type {
                schema.add_message(&package, message);
            }
            for e in &file.enum_type {
                schema.enums.insert(
                    format!("{package}.{}", e.name()),
                    e.value.iter().map(|v| v.number()).collect(),
                );
            }
            if file.package().starts_with("clientvolg.") {
                for service in &file.service {
                    for method in &service.method {
                        schema.methods.insert(
                            format!("/{}.{}/{}", file.package(), service.name(), method.name()),
                            method.input_type().to_owned(),
                        );
                    }
                }
            }
        }
        let names: BTreeSet<String> = schema
            .messages
            .values()
            .flat_map(|m| m.field.iter().map(|f| f.name().to_owned()))
            .collect();
        schema.field_names = names.into_iter().collect();
        schema
    }

    fn add_message(&mut self, scope: &str, message: &DescriptorProto) {
        let name = format!("{scope}.{}", message.name());
        for nested in &message.nested_type {
            self.add_message(&name, nested);
        }
        for e in &message.enum_type {
            self.enums.insert(
                format!("{name}.{}", e.name()),
                e.value.iter().map(|v| v.number()).collect(),
            );
        }
        self.messages.insert(name, message.clone());
    }
}

// ---------------------------------------------------------------------------
// Requests: protobuf wire format written by hand, so that anything goes
// ---------------------------------------------------------------------------

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn key(out: &mut Vec<u8>, number: i32, wire_type: u64) {
    varint(out, ((number as u64) << 3) | wire_type);
}

fn length_delimited(out: &mut Vec<u8>, number: i32, body: &[u8]) {
    key(out, number, 2);
    varint(out, body.len() as u64);
    out.extend_from_slice(body);
}

/// The collection a resource name belongs to: `clients/1/registrations/2`
/// → `registrations`.
fn collection_of(name: &str) -> &str {
    let segments: Vec<&str> = name.split('/').collect();
    segments[segments.len().saturating_sub(2)]
}

/// Names and values the seeded data gives the generator, so that random
/// requests also reach stored resources, not only NOT_FOUND.
struct Known {
    names: Vec<String>,
    client_ids: Vec<String>,
}

struct Generator<'a> {
    rng: Rng,
    schema: &'a Schema,
    known: &'a Known,
    /// Plausible values only (every field set, valid dates and enums, short
    /// texts): such requests get past validation, so writes happen too.
    sane: bool,
    /// With `sane`: now and then one field gets a random value instead, to
    /// reach the checks behind the first field.
    slips: bool,
}

const MAX_DEPTH: usize = 4;

impl Generator<'_> {
    /// A well-formed encoding of `type_name` with random field values.
    fn message(&mut self, type_name: &str, depth: usize) -> Vec<u8> {
        match type_name {
            ".google.type.Date" => return self.date(),
            ".google.protobuf.Timestamp" => return self.timestamp(),
            ".google.protobuf.FieldMask" => return self.field_mask(),
            _ => {}
        }
        let Some(descriptor) = self.schema.messages.get(type_name) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for field in &descriptor.field {
            let as_of = field.type_name() == ".google.protobuf.Timestamp";
            if (self.sane && as_of) || (!self.sane && self.rng.chance(1, 4)) {
                continue;
            }
            let count = if field.label() == Label::Repeated {
                self.count(depth)
            } else {
                1
            };
            let slip = self.sane && self.slips && self.rng.chance(1, 6);
            self.sane ^= slip;
            for _ in 0..count {
                self.field(&mut out, type_name, field, depth);
            }
            self.sane ^= slip;
        }
        if self.rng.chance(1, 20) {
            // A field this server does not know: to be skipped.
            key(&mut out, 1000 + self.rng.below(1000) as i32, 0);
            varint(&mut out, self.rng.next());
        }
        out
    }

    fn count(&mut self, depth: usize) -> usize {
        if self.sane {
            return 1;
        }
        if depth <= 1 && self.rng.chance(1, 25) {
            // Just past the limits on repeated fields (20, 50).
            return self.rng.pick(&[21, 51, 120]);
        }
        self.rng.pick(&[0, 1, 1, 2, 3])
    }

    fn field(
        &mut self,
        out: &mut Vec<u8>,
        message: &str,
        field: &FieldDescriptorProto,
        depth: usize,
    ) {
        let number = field.number();
        match field.r#type() {
            Type::Message => {
                if depth < MAX_DEPTH {
                    let body = self.message(field.type_name(), depth + 1);
                    length_delimited(out, number, &body);
                }
            }
            Type::String => {
                let text = self.string(message, field.name());
                length_delimited(out, number, text.as_bytes());
            }
            Type::Bytes => {
                let len = self.rng.below(64);
                let body = self.rng.bytes(len);
                length_delimited(out, number, &body);
            }
            Type::Enum => {
                key(out, number, 0);
                let value = match self.schema.enums.get(field.type_name()) {
                    // Unspecified: the caller's own source.
                    _ if self.sane && field.name() == "source" => 0,
                    Some(values) if self.sane && values.len() > 1 => self.rng.pick(&values[1..]),
                    Some(values) if self.rng.chance(2, 3) => self.rng.pick(values),
                    _ => self.rng.pick(&[-1, 99, 1000, i32::MAX, i32::MIN]),
                };
                varint(out, value as i64 as u64);
            }
            Type::Bool => {
                key(out, number, 0);
                varint(out, self.rng.pick(&[0, 1, 2]));
            }
            Type::Int32 | Type::Int64 | Type::Uint32 | Type::Uint64 => {
                key(out, number, 0);
                varint(out, self.integer(field.name()) as u64);
            }
            Type::Sint32 | Type::Sint64 => {
                key(out, number, 0);
                let value = self.integer(field.name());
                varint(out, ((value << 1) ^ (value >> 63)) as u64);
            }
            Type::Double | Type::Fixed64 | Type::Sfixed64 => {
                key(out, number, 1);
                let value: f64 = self.rng.pick(&[
                    0.0,
                    -0.0,
                    -1.0,
                    32.0,
                    1e300,
                    f64::NAN,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                ]);
                out.extend_from_slice(&value.to_le_bytes());
            }
            Type::Float | Type::Fixed32 | Type::Sfixed32 => {
                key(out, number, 5);
                let value: f32 = self.rng.pick(&[0.0, -1.0, 32.0, f32::NAN, f32::MAX]);
                out.extend_from_slice(&value.to_le_bytes());
            }
            Type::Group => {}
        }
    }

    fn integer(&mut self, name: &str) -> i64 {
        let random = self.rng.next() as i64;
        if self.sane {
            return match name {
                "page_size" => self.rng.below(10) as i64,
                "version" => 1 + self.rng.below(2) as i64,
                _ => 1 + self.rng.below(40) as i64,
            };
        }
        match name {
            "page_size" => self.rng.pick(&[-1, 0, 1, 2, 500, 501, i32::MAX as i64]),
            "version" | "report_version" => self.rng.pick(&[0, 1, 1, 2, 3, -1, 99, i64::MAX]),
            _ => self.rng.pick(&[
                0,
                1,
                -1,
                2,
                7,
                40,
                100,
                101,
                1000,
                i32::MAX as i64,
                i32::MIN as i64,
                i64::MAX,
                i64::MIN,
                random,
            ]),
        }
    }

    fn date(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.sane {
            for (number, value) in [
                (1, 2025),
                (2, 1 + self.rng.below(12)),
                (3, 1 + self.rng.below(28)),
            ] {
                key(&mut out, number, 0);
                varint(&mut out, value as u64);
            }
            return out;
        }
        let year = self.rng.pick(&[
            2024,
            2025,
            2025,
            2026,
            1900,
            0,
            -1,
            1,
            9999,
            10_000,
            i32::MAX,
        ]);
        let month = if self.rng.chance(4, 5) {
            1 + self.rng.below(12) as i64
        } else {
            self.rng.pick(&[0, 13, -1, i32::MAX as i64])
        };
        let day = if self.rng.chance(4, 5) {
            1 + self.rng.below(28) as i64
        } else {
            self.rng.pick(&[0, 29, 30, 31, 32, -1])
        };
        for (number, value) in [(1, year as i64), (2, month), (3, day)] {
            if self.rng.chance(9, 10) {
                key(&mut out, number, 0);
                varint(&mut out, value as u64);
            }
        }
        out
    }

    fn timestamp(&mut self) -> Vec<u8> {
        if self.sane {
            // As of the start of time's record: valid, and (nearly) empty.
            return Vec::new();
        }
        let now = chrono::Utc::now().timestamp();
        let seconds = self.rng.pick(&[
            0,
            -1,
            now - 3600,
            now - 1,
            now + 3600,
            253_402_300_800,
            i64::MAX,
            i64::MIN,
        ]);
        let nanos: i64 = self
            .rng
            .pick(&[0, 1, 999_999_999, 1_000_000_000, -1, i32::MAX as i64]);
        let mut out = Vec::new();
        key(&mut out, 1, 0);
        varint(&mut out, seconds as u64);
        key(&mut out, 2, 0);
        varint(&mut out, nanos as u64);
        out
    }

    fn field_mask(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.sane {
            // No paths: every field.
            return out;
        }
        for _ in 0..self.rng.below(4) {
            let path = if self.rng.chance(3, 4) {
                self.rng.pick(&self.schema.field_names)
            } else {
                self.rng
                    .pick(&["", "*", "name", "revision", "a.b", "surname,given_name"])
                    .to_owned()
            };
            length_delimited(&mut out, 1, path.as_bytes());
        }
        out
    }

    fn string(&mut self, message: &str, field: &str) -> String {
        if self.sane {
            return self.sane_string(message, field);
        }
        if self.rng.chance(1, 4) {
            return self.text();
        }
        match field {
            "parent" => {
                if self.rng.chance(1, 2) {
                    GEMEENTE.to_owned()
                } else {
                    self.resource_name()
                }
            }
            "name" | "client" | "contract" | "provider" | "trajectory" | "report" => {
                self.resource_name()
            }
            "page_token" => {
                let now = chrono::Utc::now().timestamp_micros();
                self.rng.pick(&[
                    String::new(),
                    "v1.1.0".to_owned(),
                    format!("v1.{now}.2"),
                    format!("v1.{}.0", now + 3_600_000_000),
                    format!("v1.1.{}", u64::MAX),
                    format!("v1.1.{}", i64::MAX),
                    "v1.-5.3".to_owned(),
                    "v1..".to_owned(),
                    "v2.1.1".to_owned(),
                ])
            }
            "bsn" => {
                if self.rng.chance(1, 2) {
                    bsn(self.rng.below(100_000) as u32)
                } else {
                    self.rng
                        .pick(&[INVALID_BSN, "", "12345678", "1234567890", "12345678a"])
                        .to_owned()
                }
            }
            "quarter" => self
                .rng
                .pick(&[
                    "2025-Q1", "2025-Q2", "2025-Q5", "2025-Q0", "0000-Q1", "9999-Q4", "2025Q1",
                ])
                .to_owned(),
            "code" | "product_code" | "codes" | "target_doelgroepen" | "target_fases" => self
                .rng
                .pick(&[
                    "JONGEREN",
                    "BEMIDDELING",
                    "COACHING",
                    "STATUSHOUDERS",
                    "A",
                    "lower",
                    "WITH SPACE",
                    "ÉÉN",
                    &"A".repeat(33),
                ])
                .to_owned(),
            "kvk_number" => self
                .rng
                .pick(&[
                    PROVIDER_KVK,
                    OTHER_PROVIDER_KVK,
                    "1234567",
                    "123456789",
                    "abcdefgh",
                ])
                .to_owned(),
            _ => self.text(),
        }
    }

    fn sane_string(&mut self, message: &str, field: &str) -> String {
        // The collection a name field of `message` refers to, guessed from
        // the field and the message's name; the longest match wins.
        let of_message = || {
            [
                ("DoelgroepAssignment", "doelgroepAssignments"),
                ("ProgressReport", "progressReports"),
                ("PhaseAdvice", "progressReports"),
                ("Registration", "registrations"),
                ("Classification", "classifications"),
                ("Doelgroep", "doelgroepen"),
                ("Provider", "providers"),
                ("Contract", "contracts"),
                ("Trajectory", "trajectories"),
                ("Client", "clients"),
            ]
            .into_iter()
            .find(|(part, _)| message.contains(part))
            .map(|(_, collection)| collection)
        };
        let collection = match field {
            "parent" => {
                let of_client = [
                    "Registration",
                    "Classification",
                    "DoelgroepAssignment",
                    "LookupDoelgroepen",
                ];
                if of_client.iter().any(|part| message.contains(part)) {
                    Some("clients")
                } else if message.contains("ListProgressReports") {
                    Some("trajectories")
                } else {
                    return GEMEENTE.to_owned();
                }
            }
            "name" => of_message(),
            "client" => Some("clients"),
            "contract" => Some("contracts"),
            "provider" => Some("providers"),
            "trajectory" => Some("trajectories"),
            "report" => Some("progressReports"),
            "page_token" => return String::new(),
            "bsn" => return bsn(1_000 + self.rng.below(100_000) as u32),
            "quarter" => return format!("2025-Q{}", 1 + self.rng.below(4)),
            "code" | "product_code" | "codes" | "target_doelgroepen" => {
                return self
                    .rng
                    .pick(&["JONGEREN", "COACHING", "BEMIDDELING", "NIEUW"])
                    .to_owned();
            }
            "kvk_number" => {
                return self
                    .rng
                    .pick(&[PROVIDER_KVK, OTHER_PROVIDER_KVK])
                    .to_owned();
            }
            "casemanager" | "classifier" => return "cm-anna".to_owned(),
            "idempotency_key" => return format!("key-{}", self.rng.next()),
            _ => {
                return self
                    .rng
                    .pick(&["Anna", "Jansen", "goed op weg", "Zoë"])
                    .to_owned();
            }
        };
        let fitting: Vec<String> = self
            .known
            .names
            .iter()
            .filter(|name| Some(collection_of(name)) == collection)
            .cloned()
            .collect();
        if fitting.is_empty() {
            self.rng.pick(&self.known.names)
        } else {
            self.rng.pick(&fitting)
        }
    }

    fn resource_name(&mut self) -> String {
        if self.rng.chance(1, 2) {
            return self.rng.pick(&self.known.names);
        }
        let id = self.rng.uuid();
        let client = self.rng.pick(&self.known.client_ids);
        let known = self.rng.pick(&self.known.names);
        self.rng.pick(&[
            format!("clients/{id}"),
            format!("gemeenten/0599/clients/{id}"),
            format!("clients/{client}/registrations/{id}"),
            format!("clients/{client}/classifications/{id}"),
            format!("clients/{client}/doelgroepAssignments/{id}"),
            format!("providers/{id}"),
            format!("contracts/{id}"),
            format!("trajectories/{id}"),
            format!("trajectories/{id}/progressReports/2025-Q1"),
            format!("clients/../clients/{client}"),
            format!("{known}/extra"),
            known.to_uppercase(),
            known.replace('/', "%2F"),
            "../".to_owned(),
            "../../etc/passwd".to_owned(),
            "clients/".to_owned(),
            "clients/not-a-uuid".to_owned(),
            "gemeenten/0599".to_owned(),
            "gemeenten/0363/../0599".to_owned(),
            "/".to_owned(),
            String::new(),
        ])
    }

    fn text(&mut self) -> String {
        match self.rng.below(16) {
            0 => String::new(),
            1 => " ".to_owned(),
            2 => "Anna".to_owned(),
            3 => "Zoë d'Ancona-Ünal".to_owned(),
            4 => "你好, 🚀🚀 שלום".to_owned(),
            5 => "\u{202e}gnitirw\u{202c} \u{200b}".to_owned(),
            6 => "a\u{0}b\u{1b}[31m".to_owned(),
            7 => "line\r\nline\ttab".to_owned(),
            8 => "x".repeat(self.rng.pick(&[101, 201, 501, 1001, 2001])),
            9 => "é".repeat(self.rng.pick(&[2_000, 100_000])),
            10 => "'; DROP TABLE client_versions; --".to_owned(),
            11 => "%s%n%x{0}".to_owned(),
            12 => "\u{fffd}\u{feff}".to_owned(),
            _ => {
                // Random characters from all of Unicode.
                let len = self.rng.below(40);
                (0..len)
                    .filter_map(|_| char::from_u32(self.rng.below(0x11_0000) as u32))
                    .collect()
            }
        }
    }

    /// An encoding damaged in one of several ways.
    fn mangle(&mut self, mut body: Vec<u8>) -> Vec<u8> {
        match self.rng.below(4) {
            0 if !body.is_empty() => {
                body.truncate(self.rng.below(body.len()));
            }
            1 if !body.is_empty() => {
                for _ in 0..1 + self.rng.below(8) {
                    let bit = self.rng.below(body.len() * 8);
                    body[bit / 8] ^= 1 << (bit % 8);
                }
            }
            2 => {
                let len = 1 + self.rng.below(16);
                body.extend(self.rng.bytes(len));
            }
            _ => {
                // A length prefix that promises more than follows.
                let mut out = Vec::new();
                key(&mut out, 1 + self.rng.below(8) as i32, 2);
                varint(&mut out, 1 << (10 + self.rng.below(40)));
                out.extend_from_slice(&body);
                body = out;
            }
        }
        body
    }
}

// ---------------------------------------------------------------------------
// Sending raw bytes
// ---------------------------------------------------------------------------

/// Sends and receives message bodies as they are.
#[derive(Default)]
struct RawCodec;

struct RawEncoder;
struct RawDecoder;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

fn token(role: Role) -> &'static str {
    match role {
        Role::Casemanager => CM_ANNA,
        Role::FunctioneelBeheerder => FB_0363,
        Role::DataManager => DM_0363,
        Role::Provider => PROVIDER_0363,
        Role::Auditor => AUDITOR_0363,
    }
}

/// Calls `path` with `body` as `role`; the answer's body or its status.
async fn call(app: &TestApp, path: &str, role: Role, body: Vec<u8>) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(app.channel.clone());
    grpc.ready().await.expect("the server accepts calls");
    let mut request = Request::new(body);
    let metadata = request.metadata_mut();
    let bearer = format!("Bearer {}", token(role));
    metadata.insert("authorization", bearer.parse().expect("an ASCII header"));
    // Reads of personal data will require a purpose: without one the
    // fuzzed reads would stop at that check.
    metadata.insert("clientvolg-purpose", "fuzz test".parse().expect("ASCII"));
    let path = PathAndQuery::try_from(path).expect("a method path");
    let answer = tokio::time::timeout(
        Duration::from_secs(20),
        grpc.unary(request, path.clone(), RawCodec),
    )
    .await
    .unwrap_or_else(|_| panic!("{path}: no answer within 20 s"));
    answer.map(tonic::Response::into_inner)
}

/// The answers a caller's bad input may get. INTERNAL and UNKNOWN mean the
/// server failed (or panicked); UNAVAILABLE and the rest a broken transport.
const CLEAN: [Code; 9] = [
    Code::Ok,
    Code::InvalidArgument,
    Code::NotFound,
    Code::AlreadyExists,
    Code::PermissionDenied,
    Code::FailedPrecondition,
    Code::Aborted,
    Code::OutOfRange,
    Code::ResourceExhausted,
];

fn is_read(path: &str) -> bool {
    let method = path.rsplit('/').next().unwrap_or_default();
    ["Get", "List", "Lookup"]
        .iter()
        .any(|prefix| method.starts_with(prefix))
}

// ---------------------------------------------------------------------------
// Seed data: something to find, update and refer to
// ---------------------------------------------------------------------------

async fn seed_data(app: &TestApp) -> Known {
    let mut fb = app.beheerder();
    let provider = fb
        .create_provider(sample_provider("WerkFit BV", PROVIDER_KVK))
        .await;
    let contract = fb.create_contract(sample_contract(&provider.name)).await;
    fb.create_doelgroep("JONGEREN").await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(1).await;
    anna.classify_fase(&client.name, v1::Fase::Fase2, date(2025, 1, 1))
        .await;
    anna.assign_doelgroepen(&client.name, &["JONGEREN"], date(2025, 1, 1))
        .await;
    let trajectory = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 2, 1),
            vec![line("COACHING", 10)],
        ))
        .await;
    let trajectory = anna
        .start_trajectory(&trajectory.name, date(2025, 2, 15), 1)
        .await;
    let submitted = app
        .provider()
        .submit_reports(vec![sample_report(&trajectory.name, "2025-Q1", "k-1")])
        .await;
    let (report, _) = accepted(&submitted.results[0]);

    let mut names = vec![
        client.name.clone(),
        provider.name,
        contract.name,
        trajectory.name,
        report,
    ];
    let registrations = anna
        .registrations
        .list_registrations(v1::ListRegistrationsRequest {
            parent: client.name.clone(),
            ..Default::default()
        })
        .await
        .expect("ListRegistrations")
        .into_inner();
    names.extend(registrations.registrations.into_iter().map(|r| r.name));
    let classifications = anna
        .classifications
        .list_classifications(v1::ListClassificationsRequest {
            parent: client.name.clone(),
            ..Default::default()
        })
        .await
        .expect("ListClassifications")
        .into_inner();
    names.extend(classifications.classifications.into_iter().map(|c| c.name));
    let assignments = anna
        .doelgroepen
        .list_doelgroep_assignments(v1::ListDoelgroepAssignmentsRequest {
            parent: client.name.clone(),
            ..Default::default()
        })
        .await
        .expect("ListDoelgroepAssignments")
        .into_inner();
    names.extend(assignments.assignments.into_iter().map(|a| a.name));
    let doelgroepen = fb
        .doelgroepen
        .list_doelgroepen(v1::ListDoelgroepenRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await
        .expect("ListDoelgroepen")
        .into_inner();
    names.extend(doelgroepen.doelgroepen.into_iter().map(|d| d.name));
    let client_id = client
        .name
        .strip_prefix("clients/")
        .expect("clients/{id}")
        .to_owned();
    Known {
        names,
        client_ids: vec![client_id],
    }
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Kind {
    RandomBytes,
    Mangled,
    WellFormed,
    Plausible,
    Slipping,
}

async fn every_rpc_answers_garbage_cleanly(app: TestApp) {
    let seed = seed();
    let schema = Schema::load();
    let policy: BTreeSet<&str> = POLICY.iter().map(|(path, _)| *path).collect();
    let methods: BTreeSet<&str> = schema.methods.keys().map(String::as_str).collect();
    assert_eq!(
        policy, methods,
        "the policy table and the API's methods differ"
    );

    let known = seed_data(&app).await;
    let db = raw_connection(&app.admin_database_url).await;
    let mut generator = Generator {
        rng: Rng(seed),
        schema: &schema,
        known: &known,
        sane: false,
        slips: false,
    };
    let seeded = history::row_counts(&db).await;
    let mut counts = seeded.clone();
    let mut answers: HashMap<Code, usize> = HashMap::new();
    for (path, roles) in POLICY {
        let input = &schema.methods[*path];
        for role in roles.iter().copied() {
            for case in 0..cases() {
                let kind = match case % 5 {
                    0 => Kind::RandomBytes,
                    1 => Kind::Mangled,
                    2 => Kind::Plausible,
                    3 => Kind::Slipping,
                    _ => Kind::WellFormed,
                };
                let body = match kind {
                    Kind::RandomBytes => {
                        let len = generator.rng.pick(&[0, 1, 2, 5, 17, 64, 1000]);
                        generator.rng.bytes(len)
                    }
                    Kind::Mangled => {
                        let body = generator.message(input, 0);
                        generator.mangle(body)
                    }
                    Kind::WellFormed => generator.message(input, 0),
                    Kind::Plausible | Kind::Slipping => {
                        generator.sane = true;
                        generator.slips = matches!(kind, Kind::Slipping);
                        let body = generator.message(input, 0);
                        generator.sane = false;
                        body
                    }
                };
                let context = || {
                    format!(
                        "seed {seed} ({:?}): {path} as {role:?}, case {case} ({kind:?}), \
                         request {} bytes, starting {:02x?}",
                        app.backend,
                        body.len(),
                        &body[..body.len().min(48)]
                    )
                };
                let answer = call(&app, path, role, body.clone()).await;
                let code = answer.as_ref().map_or_else(Status::code, |_| Code::Ok);
                *answers.entry(code).or_default() += 1;
                assert!(
                    CLEAN.contains(&code),
                    "{}: answered {code:?}: {}",
                    context(),
                    answer.as_ref().err().map_or("", |s| s.message())
                );

                let after = history::row_counts(&db).await;
                let changed = history::changed(&counts, &after);
                if !changed.is_empty() {
                    assert!(
                        !is_read(path),
                        "{}: a read changed the history: {changed:?}",
                        context()
                    );
                    assert_eq!(
                        code,
                        Code::Ok,
                        "{}: a refused call changed the history: {changed:?}",
                        context()
                    );
                    if let Ok(response) = &answer
                        && path.ends_with("/SubmitProgressReports")
                    {
                        let response = v1::SubmitProgressReportsResponse::decode(&response[..])
                            .expect("a SubmitProgressReportsResponse");
                        assert!(
                            response.accepted_count > 0,
                            "{}: a batch without accepted items changed the history: {changed:?}",
                            context()
                        );
                    }
                }
                counts = after;
            }
        }
    }

    let broken = history::broken_invariants(&db).await;
    assert!(
        broken.is_empty(),
        "seed {seed} ({:?}): after the run the history is broken: {broken:?}",
        app.backend
    );

    // Still serving: health, and a valid call.
    let mut health = tonic_health::pb::health_client::HealthClient::new(app.channel.clone());
    let status = health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health check after the run")
        .into_inner()
        .status;
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    let first = known.names[0].clone();
    app.anna()
        .clients
        .get_client(v1::GetClientRequest {
            name: first,
            ..Default::default()
        })
        .await
        .expect("GetClient after the run");

    println!("seed {seed} ({:?}): answers {answers:?}", app.backend);
    // The run must have reached past decoding into the handlers, and got
    // some writes through: otherwise it proves little.
    for code in [Code::Ok, Code::InvalidArgument, Code::NotFound] {
        assert!(
            answers.get(&code).copied().unwrap_or_default() > 0,
            "seed {seed}: no call answered {code:?}: {answers:?}"
        );
    }
    assert!(
        history::row_counts(&db).await.iter().sum::<i64>() > seeded.iter().sum::<i64>(),
        "seed {seed}: no fuzzed write was accepted"
    );
    app.cleanup().await;
}

/// Every List RPC pages (AIP-158): a negative page size is refused naming
/// `page_size`, the largest is served (clamped to the maximum). A new List
/// RPC without a page size fails here.
async fn every_list_bounds_its_page_size(app: TestApp) {
    let schema = Schema::load();
    let known = seed_data(&app).await;
    let mut generator = Generator {
        rng: Rng(seed()),
        schema: &schema,
        known: &known,
        sane: true,
        slips: false,
    };
    let mut lists = 0;
    for (path, roles) in POLICY {
        let method = path.rsplit('/').next().unwrap_or_default();
        if !method.starts_with("List") {
            continue;
        }
        lists += 1;
        let input = &schema.methods[*path];
        let descriptor = &schema.messages[input];
        assert!(
            descriptor.field.iter().any(|f| f.name() == "page_size"),
            "{path} has no page_size"
        );
        // Only what addresses the list, and the page size.
        let mut request = |page_size: i32| {
            let mut out = Vec::new();
            for field in &descriptor.field {
                match field.name() {
                    "parent" | "name" => {
                        let value = generator.sane_string(input, field.name());
                        length_delimited(&mut out, field.number(), value.as_bytes());
                    }
                    "page_size" => {
                        key(&mut out, field.number(), 0);
                        varint(&mut out, page_size as i64 as u64);
                    }
                    _ => {}
                }
            }
            out
        };
        let (negative, largest) = (request(-1), request(i32::MAX));
        let role = roles[0];
        assert_invalid(
            call(&app, path, role, negative)
                .await
                .map(tonic::Response::new),
            "page_size",
        );
        call(&app, path, role, largest)
            .await
            .unwrap_or_else(|status| panic!("{path} with the largest page size: {status:?}"));
    }
    assert!(lists > 0);
    app.cleanup().await;
}

both_databases!(
    every_rpc_answers_garbage_cleanly,
    every_list_bounds_its_page_size
);
