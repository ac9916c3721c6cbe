//! Conversions at the edge shared by every service: dates, timestamps,
//! resource names, page tokens, field masks and the change context. Each
//! turns raw protobuf values into domain types or answers INVALID_ARGUMENT
//! naming the field.

use super::error::{ApiError, ApiResult};
use crate::audit::ClientsConcerned;
use crate::auth::{Principal, Role};
use crate::domain::Invalid;
use crate::domain::dates::calendar_date;
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::{Actor, Change, RecordedAt, Revision, Source, change_reason};
use crate::proto::clientvolg::v1 as pb;
use crate::proto::google::r#type::Date;
use crate::store::{Page, PageRequest};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use uuid::Uuid;

/// Attaches the field's name to a domain refusal.
pub fn field<T>(name: &str, result: Result<T, Invalid>) -> ApiResult<T> {
    result.map_err(|Invalid(reason)| ApiError::invalid(name, reason))
}

pub fn date(name: &str, value: Option<&Date>) -> ApiResult<NaiveDate> {
    let value = value.ok_or_else(|| ApiError::required(name))?;
    optional_date(name, Some(value)).map(|d| d.expect("present"))
}

pub fn optional_date(name: &str, value: Option<&Date>) -> ApiResult<Option<NaiveDate>> {
    value
        .map(|d| {
            let month = u32::try_from(d.month)
                .map_err(|_| ApiError::invalid(name, "the month must be 1 to 12"))?;
            let day = u32::try_from(d.day)
                .map_err(|_| ApiError::invalid(name, "the day must be 1 to 31"))?;
            field(name, calendar_date(d.year, month, day))
        })
        .transpose()
}

pub fn to_date(date: NaiveDate) -> Date {
    Date {
        year: date.year(),
        month: date.month() as i32,
        day: date.day() as i32,
    }
}

pub fn timestamp(at: RecordedAt) -> prost_types::Timestamp {
    instant_to_pb(at.to_datetime())
}

pub fn instant_to_pb(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: time.timestamp_subsec_nanos() as i32,
    }
}

/// An optional timestamp field, which must be a valid instant.
pub fn instant(
    name: &str,
    value: Option<&prost_types::Timestamp>,
) -> ApiResult<Option<DateTime<Utc>>> {
    value
        .map(|value| {
            u32::try_from(value.nanos)
                .ok()
                .and_then(|nanos| DateTime::from_timestamp(value.seconds, nanos))
                .ok_or_else(|| ApiError::invalid(name, "is not a valid timestamp"))
        })
        .transpose()
}

/// An `as_of`: a valid instant, not in the future (a future answer could
/// still change, which `as_of` promises it will not).
pub fn as_of(value: Option<&prost_types::Timestamp>) -> ApiResult<Option<RecordedAt>> {
    let Some(at) = instant("as_of", value)? else {
        return Ok(None);
    };
    let at = RecordedAt::from_datetime(at);
    if at > crate::store::now() {
        return Err(ApiError::invalid(
            "as_of",
            "lies in the future; only the past can be asked",
        ));
    }
    Ok(Some(at))
}

/// `gemeenten/{code}`, which must be the caller's own gemeente.
pub fn own_gemeente(caller: &Principal, parent: &str) -> ApiResult<GemeenteCode> {
    let code = parent
        .strip_prefix("gemeenten/")
        .ok_or_else(|| ApiError::invalid("parent", "must be gemeenten/{code}"))?;
    let gemeente = field("parent", GemeenteCode::parse(code))?;
    if gemeente != caller.gemeente {
        return Err(ApiError::PermissionDenied(format!(
            "the caller works for gemeente {}, not {gemeente}",
            caller.gemeente
        )));
    }
    Ok(gemeente)
}

pub fn uuid_segment(name_field: &str, segment: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(segment)
        .map_err(|_| ApiError::invalid(name_field, format!("{segment:?} is not a valid id")))
}

/// `{collection}/{id}`, a top-level resource name.
pub fn resource_name(name_field: &str, name: &str, collection: &str) -> ApiResult<Uuid> {
    match name.split('/').collect::<Vec<_>>().as_slice() {
        [kind, id] if *kind == collection => uuid_segment(name_field, id),
        _ => Err(ApiError::invalid(
            name_field,
            format!("must be {collection}/{{id}}"),
        )),
    }
}

/// An optional reference to a top-level resource: empty means none.
pub fn optional_resource_name(
    name_field: &str,
    name: &str,
    collection: &str,
) -> ApiResult<Option<Uuid>> {
    (!name.is_empty())
        .then(|| resource_name(name_field, name, collection))
        .transpose()
}

/// `clients/{client_id}`.
pub fn client_name(name_field: &str, name: &str) -> ApiResult<Uuid> {
    resource_name(name_field, name, "clients")
}

/// `{parent_collection}/{parent}/{collection}/{id}`, both segments raw.
pub fn child_name_of(
    name_field: &str,
    name: &str,
    parent_collection: &str,
    collection: &str,
) -> ApiResult<(String, String)> {
    match name.split('/').collect::<Vec<_>>().as_slice() {
        [parent_kind, parent, kind, id]
            if *parent_kind == parent_collection && *kind == collection =>
        {
            Ok(((*parent).to_owned(), (*id).to_owned()))
        }
        _ => Err(ApiError::invalid(
            name_field,
            format!("must be {parent_collection}/{{id}}/{collection}/{{id}}"),
        )),
    }
}

/// `clients/{client_id}/{collection}/{id}`.
pub fn child_name(name_field: &str, name: &str, collection: &str) -> ApiResult<(Uuid, Uuid)> {
    match name.split('/').collect::<Vec<_>>().as_slice() {
        ["clients", client, kind, id] if *kind == collection => Ok((
            uuid_segment(name_field, client)?,
            uuid_segment(name_field, id)?,
        )),
        _ => Err(ApiError::invalid(
            name_field,
            format!("must be clients/{{client_id}}/{collection}/{{id}}"),
        )),
    }
}

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;

/// AIP-158: 0 means the default, more than the maximum is reduced to it.
pub fn page_size(raw: i32) -> ApiResult<u64> {
    match u64::try_from(raw) {
        Err(_) => Err(ApiError::invalid("page_size", "must not be negative")),
        Ok(0) => Ok(DEFAULT_PAGE_SIZE),
        Ok(size) => Ok(size.min(MAX_PAGE_SIZE)),
    }
}

/// Where a list request starts: a fresh listing at `as_of` (or now), or the
/// continuation its page token describes. The token pins the transaction
/// time, so every page of one listing reads the same moment.
pub async fn page_request(
    store: &crate::store::Store,
    page_size: i32,
    page_token: &str,
    as_of: Option<&prost_types::Timestamp>,
) -> ApiResult<PageRequest> {
    let size = self::page_size(page_size)?;
    if page_token.is_empty() {
        let horizon = store.horizon(self::as_of(as_of)?).await?;
        return Ok(PageRequest {
            horizon,
            offset: 0,
            size,
        });
    }
    let bad = || ApiError::invalid("page_token", "is not a token this server handed out");
    let (horizon, offset) = page_token
        .strip_prefix("v1.")
        .and_then(|rest| rest.split_once('.'))
        .ok_or_else(bad)?;
    let horizon = horizon.parse::<i64>().map_err(|_| bad())?;
    // Beyond i64::MAX an offset fits neither the databases' OFFSET nor the
    // next page's offset arithmetic; no listing is that long.
    let offset = offset
        .parse::<u64>()
        .ok()
        .filter(|offset| i64::try_from(*offset).is_ok())
        .ok_or_else(bad)?;
    if horizon < 0 || RecordedAt::from_micros(horizon) > crate::store::now() {
        return Err(bad());
    }
    Ok(PageRequest {
        horizon: RecordedAt::from_micros(horizon),
        offset,
        size,
    })
}

/// The token for the page after `page`, or "" at the end.
pub fn next_page_token<T>(page: &Page<T>) -> String {
    page_token(page.next)
}

/// The token for a continuation, or "" when there is none.
pub fn page_token(next: Option<PageRequest>) -> String {
    next.map(|next| format!("v1.{}.{}", next.horizon.micros(), next.offset))
        .unwrap_or_default()
}

/// The paths of an update mask, each one of `allowed`; an empty mask means
/// all of them.
pub fn mask_paths(
    mask: Option<&prost_types::FieldMask>,
    allowed: &[&'static str],
) -> ApiResult<Vec<&'static str>> {
    let paths = mask.map(|m| m.paths.as_slice()).unwrap_or_default();
    if paths.is_empty() {
        return Ok(allowed.to_vec());
    }
    paths
        .iter()
        .map(|path| {
            allowed
                .iter()
                .find(|a| **a == path)
                .copied()
                .ok_or_else(|| {
                    ApiError::invalid(
                        "update_mask",
                        format!(
                            "{path:?} cannot be changed; allowed: {}",
                            allowed.join(", ")
                        ),
                    )
                })
        })
        .collect()
}

/// The base version of an update: required and positive.
pub fn base_version(version: i64) -> ApiResult<i64> {
    if version < 1 {
        return Err(ApiError::invalid(
            "version",
            "the version the change is based on is required",
        ));
    }
    Ok(version)
}

/// The sources each role may state for its changes; the first is its
/// default.
fn sources_for(role: Role) -> &'static [Source] {
    match role {
        Role::Casemanager => &[Source::Casemanager, Source::Import],
        Role::FunctioneelBeheerder => &[Source::FunctioneelBeheer, Source::Import],
        Role::Provider => &[Source::ProviderReport],
        Role::DataManager | Role::Auditor => &[],
    }
}

/// Who makes a change, why and from where. Corrections (`reason_required`)
/// must say why.
pub fn change(
    caller: &Principal,
    context: Option<&pb::ChangeContext>,
    reason_required: bool,
) -> ApiResult<Change> {
    let default = pb::ChangeContext::default();
    let context = context.unwrap_or(&default);
    let reason = field(
        "change.reason",
        change_reason(&context.reason, reason_required),
    )?;
    let allowed = sources_for(caller.role);
    let source = match pb::Source::try_from(context.source) {
        Ok(pb::Source::Unspecified) => allowed.first().copied(),
        Ok(stated) => allowed.iter().copied().find(|s| to_pb_source(*s) == stated),
        Err(_) => None,
    }
    .ok_or_else(|| {
        ApiError::invalid(
            "change.source",
            format!(
                "is not a source the role {} may record",
                caller.role.as_str()
            ),
        )
    })?;
    Ok(Change {
        actor: Actor {
            subject: caller.subject.clone(),
            role: caller.role.as_str(),
        },
        source,
        reason,
    })
}

fn to_pb_source(source: Source) -> pb::Source {
    match source {
        Source::Casemanager => pb::Source::Casemanager,
        Source::Import => pb::Source::Import,
        Source::ProviderReport => pb::Source::ProviderReport,
        Source::ProviderAdvice => pb::Source::ProviderAdvice,
        Source::FunctioneelBeheer => pb::Source::FunctioneelBeheer,
    }
}

pub fn revision(revision: &Revision) -> pb::Revision {
    pb::Revision {
        version: revision.version,
        record_time: Some(timestamp(revision.recorded_at)),
        actor: revision.actor.clone(),
        actor_role: revision.actor_role.clone(),
        source: to_pb_source(revision.source) as i32,
        reason: revision.reason.clone().unwrap_or_default(),
    }
}

/// Where the handler notes the clients a call concerned, for the processing
/// log. Calls the log layer does not log get a handle nobody reads.
pub fn concerned<T>(request: &tonic::Request<T>) -> ClientsConcerned {
    request
        .extensions()
        .get::<ClientsConcerned>()
        .cloned()
        .unwrap_or_default()
}

/// Notes the clients of trajectories for the processing log, for calls that
/// name only trajectories. Ids of other gemeenten find nobody.
pub async fn note_trajectory_clients(
    store: &crate::store::Store,
    concerned: &ClientsConcerned,
    gemeente: &GemeenteCode,
    trajectories: &[Uuid],
) -> ApiResult<()> {
    concerned.note_all(
        store
            .clients_of_trajectories(gemeente, trajectories)
            .await?,
    );
    Ok(())
}

/// The caller the auth layer put into the request.
pub fn caller<T>(request: &tonic::Request<T>) -> ApiResult<Principal> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| {
            ApiError::Internal(
                "request reached a service without an authenticated principal".into(),
            )
        })
}

/// Looks a protobuf enum number up in a (proto, domain) table; `None` for
/// numbers without a domain value (unspecified, unknown).
pub fn from_table<P: Copy + Into<i32>, D: Copy>(table: &[(P, D)], raw: i32) -> Option<D> {
    table
        .iter()
        .find(|(p, _)| (*p).into() == raw)
        .map(|(_, d)| *d)
}

/// The protobuf enum number of a domain value in a (proto, domain) table.
pub fn to_table<P: Copy + Into<i32>, D: Copy + PartialEq>(table: &[(P, D)], value: D) -> i32 {
    table
        .iter()
        .find(|(_, d)| *d == value)
        .map(|(p, _)| (*p).into())
        .unwrap_or_default()
}
