//! ClassificationService: fase-indeling and participatieladder.

use super::convert::{
    self, base_version, caller, change, child_name, client_name, concerned, date, field,
    mask_paths, next_page_token, page_request, revision, to_date,
};
use super::error::{ApiError, ApiResult};
use crate::auth::Principal;
use crate::domain::classification::{Classification, ClassificationValue, Fase, Scheme, Trede};
use crate::domain::client::{LONG_TEXT_MAX, SUBJECT_MAX};
use crate::domain::text::bounded;
use crate::proto::clientvolg::v1::{
    self as pb, classification_service_server::ClassificationService,
};
use crate::store::Store;
use crate::store::classifications::ClassificationRecord;
use tonic::{Request, Response, Status};

const COLLECTION: &str = "classifications";
const MUTABLE_FIELDS: [&str; 4] = ["value", "valid_from", "motivation", "classifier"];

pub struct ClassificationApi {
    store: Store,
}

impl ClassificationApi {
    pub fn new(store: Store) -> Self {
        ClassificationApi { store }
    }
}

/// A recordable fase; `None` for the two that are no value (unspecified,
/// niet ingedeeld).
pub(super) fn fase_from_pb(fase: pb::Fase) -> Option<Fase> {
    match fase {
        pb::Fase::Fase1 => Some(Fase::Fase1),
        pb::Fase::Fase2 => Some(Fase::Fase2),
        pb::Fase::Fase3 => Some(Fase::Fase3),
        pb::Fase::Fase4 => Some(Fase::Fase4),
        pb::Fase::Ontheffing => Some(Fase::Ontheffing),
        pb::Fase::Unspecified | pb::Fase::NietIngedeeld => None,
    }
}

pub(super) fn to_pb_fase(fase: Fase) -> pb::Fase {
    match fase {
        Fase::Fase1 => pb::Fase::Fase1,
        Fase::Fase2 => pb::Fase::Fase2,
        Fase::Fase3 => pb::Fase::Fase3,
        Fase::Fase4 => pb::Fase::Fase4,
        Fase::Ontheffing => pb::Fase::Ontheffing,
    }
}

fn trede_from_pb(raw: i32) -> Option<Trede> {
    // TREDE_1..TREDE_6 are numbered 1..6 in the contract.
    u8::try_from(raw).ok().and_then(Trede::new)
}

fn value(value: Option<&pb::classification::Value>) -> ApiResult<ClassificationValue> {
    let name = "classification.value";
    match value {
        None => Err(ApiError::invalid(name, "a fase or a trede is required")),
        Some(pb::classification::Value::Fase(raw)) => pb::Fase::try_from(*raw)
            .ok()
            .and_then(fase_from_pb)
            .map(ClassificationValue::Fase)
            .ok_or_else(|| {
                ApiError::invalid(name, format!("{raw} is not a fase that can be recorded"))
            }),
        Some(pb::classification::Value::Trede(raw)) => trede_from_pb(*raw)
            .map(ClassificationValue::Trede)
            .ok_or_else(|| {
                ApiError::invalid(name, format!("{raw} is not a trede that can be recorded"))
            }),
    }
}

fn to_pb_value(value: ClassificationValue) -> pb::classification::Value {
    match value {
        ClassificationValue::Fase(fase) => pb::classification::Value::Fase(to_pb_fase(fase) as i32),
        ClassificationValue::Trede(trede) => {
            pb::classification::Value::Trede(i32::from(trede.step()))
        }
    }
}

/// A scheme, or `None` when unspecified.
fn scheme(raw: i32) -> ApiResult<Option<Scheme>> {
    match pb::ClassificationScheme::try_from(raw) {
        Ok(pb::ClassificationScheme::Fase) => Ok(Some(Scheme::Fase)),
        Ok(pb::ClassificationScheme::Participatieladder) => Ok(Some(Scheme::Participatieladder)),
        Ok(pb::ClassificationScheme::Unspecified) => Ok(None),
        Err(_) => Err(ApiError::invalid(
            "scheme",
            format!("{raw} is not a classification scheme"),
        )),
    }
}

fn motivation(classification: &pb::Classification) -> ApiResult<String> {
    field(
        "classification.motivation",
        bounded(&classification.motivation, LONG_TEXT_MAX, false),
    )
}

/// The classifier defaults to the caller.
fn classifier(classification: &pb::Classification, caller: &Principal) -> ApiResult<String> {
    let classifier = field(
        "classification.classifier",
        bounded(&classification.classifier, SUBJECT_MAX, false),
    )?;
    Ok(if classifier.is_empty() {
        caller.subject.clone()
    } else {
        classifier
    })
}

fn to_pb(record: ClassificationRecord) -> pb::Classification {
    pb::Classification {
        name: format!("clients/{}/{COLLECTION}/{}", record.client_id, record.id),
        value: Some(to_pb_value(record.classification.value)),
        valid_from: Some(to_date(record.classification.valid_from)),
        motivation: record.classification.motivation,
        classifier: record.classification.classifier,
        revision: Some(revision(&record.revision)),
    }
}

#[tonic::async_trait]
impl ClassificationService for ClassificationApi {
    async fn create_classification(
        &self,
        request: Request<pb::CreateClassificationRequest>,
    ) -> Result<Response<pb::Classification>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let client_id = client_name("parent", &request.parent)?;
        concerned.note(client_id);
        let proto = request
            .classification
            .as_ref()
            .ok_or_else(|| ApiError::required("classification"))?;
        let classification = Classification {
            value: value(proto.value.as_ref())?,
            valid_from: date("classification.valid_from", proto.valid_from.as_ref())?,
            motivation: motivation(proto)?,
            classifier: classifier(proto, &caller)?,
        };
        let change = change(&caller, request.change.as_ref(), false)?;
        let record = self
            .store
            .create_classification(&caller.gemeente, client_id, classification, &change)
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn get_classification(
        &self,
        request: Request<pb::GetClassificationRequest>,
    ) -> Result<Response<pb::Classification>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let (client_id, id) = child_name("name", &request.name, COLLECTION)?;
        concerned.note(client_id);
        let horizon = self
            .store
            .horizon(convert::as_of(request.as_of.as_ref())?)
            .await?;
        let record = self
            .store
            .classification(&caller.gemeente, client_id, id, horizon)
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn list_classifications(
        &self,
        request: Request<pb::ListClassificationsRequest>,
    ) -> Result<Response<pb::ListClassificationsResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let client_id = client_name("parent", &request.parent)?;
        concerned.note(client_id);
        let scheme = scheme(request.scheme)?;
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        let page = self
            .store
            .list_classifications(&caller.gemeente, client_id, scheme, page)
            .await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListClassificationsResponse {
            classifications: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_classification(
        &self,
        request: Request<pb::UpdateClassificationRequest>,
    ) -> Result<Response<pb::Classification>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let proto = request
            .classification
            .as_ref()
            .ok_or_else(|| ApiError::required("classification"))?;
        let (client_id, id) = child_name("classification.name", &proto.name, COLLECTION)?;
        concerned.note(client_id);
        let paths = mask_paths(request.update_mask.as_ref(), &MUTABLE_FIELDS)?;
        let new_value = paths
            .contains(&"value")
            .then(|| value(proto.value.as_ref()))
            .transpose()?;
        let new_valid_from = paths
            .contains(&"valid_from")
            .then(|| date("classification.valid_from", proto.valid_from.as_ref()))
            .transpose()?;
        let new_motivation = paths
            .contains(&"motivation")
            .then(|| motivation(proto))
            .transpose()?;
        let new_classifier = paths
            .contains(&"classifier")
            .then(|| classifier(proto, &caller))
            .transpose()?;
        let version = base_version(request.version)?;
        let change = change(&caller, request.change.as_ref(), true)?;
        let record = self
            .store
            .update_classification(
                &caller.gemeente,
                client_id,
                id,
                version,
                &change,
                |current| Classification {
                    value: new_value.unwrap_or(current.value),
                    valid_from: new_valid_from.unwrap_or(current.valid_from),
                    motivation: new_motivation.unwrap_or(current.motivation),
                    classifier: new_classifier.unwrap_or(current.classifier),
                },
            )
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn list_classification_versions(
        &self,
        request: Request<pb::ListClassificationVersionsRequest>,
    ) -> Result<Response<pb::ListClassificationVersionsResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let (client_id, id) = child_name("name", &request.name, COLLECTION)?;
        concerned.note(client_id);
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        let page = self
            .store
            .classification_versions(&caller.gemeente, client_id, id, page)
            .await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListClassificationVersionsResponse {
            versions: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn lookup_classification(
        &self,
        request: Request<pb::LookupClassificationRequest>,
    ) -> Result<Response<pb::LookupClassificationResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let client_id = client_name("parent", &request.parent)?;
        concerned.note(client_id);
        let scheme = scheme(request.scheme)?.ok_or_else(|| ApiError::required("scheme"))?;
        let day = date("date", request.date.as_ref())?;
        let horizon = self
            .store
            .horizon(convert::as_of(request.as_of.as_ref())?)
            .await?;
        let found = self
            .store
            .classification_on(&caller.gemeente, client_id, scheme, day, horizon)
            .await?;
        let value = match (&found, scheme) {
            (Some(record), _) => match record.classification.value {
                ClassificationValue::Fase(fase) => {
                    pb::lookup_classification_response::Value::Fase(to_pb_fase(fase) as i32)
                }
                ClassificationValue::Trede(trede) => {
                    pb::lookup_classification_response::Value::Trede(i32::from(trede.step()))
                }
            },
            (None, Scheme::Fase) => {
                pb::lookup_classification_response::Value::Fase(pb::Fase::NietIngedeeld as i32)
            }
            (None, Scheme::Participatieladder) => {
                pb::lookup_classification_response::Value::Trede(pb::Trede::NietIngedeeld as i32)
            }
        };
        Ok(Response::new(pb::LookupClassificationResponse {
            value: Some(value),
            classification: found.map(to_pb),
        }))
    }
}
