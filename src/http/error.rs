//! Errors as the contract shapes them: `{"error": {"code", "message", "fields"}}` with a
//! fitting status. Internal errors are logged with context and shown only as "internal".

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::app::AppError;
use crate::domain::FieldError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<FieldError>,
    pub location: Option<String>,
    pub retry_after_seconds: Option<u64>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    fields: Vec<FieldOut<'a>>,
}

#[derive(Serialize)]
struct FieldOut<'a> {
    field: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            location: None,
            retry_after_seconds: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send 'Authorization: Bearer <token>' with a valid admin token",
        )
    }

    pub fn too_many_requests(retry_after_seconds: u64) -> ApiError {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "too many requests; try again later",
        );
        error.retry_after_seconds = Some(retry_after_seconds.max(1));
        error
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::BadRequest { message, fields } => ApiError {
                fields,
                ..ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
            },
            AppError::Invalid(fields) => {
                let message = match fields.as_slice() {
                    [single] => format!("invalid field '{}': {}", single.field, single.message),
                    _ => format!("{} fields are invalid", fields.len()),
                };
                ApiError {
                    fields,
                    ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", message)
                }
            }
            AppError::NotFound(message) => ApiError::not_found(message),
            AppError::Moved { location } => ApiError {
                location: Some(location.clone()),
                ..ApiError::new(
                    StatusCode::PERMANENT_REDIRECT,
                    "moved",
                    format!("this record was merged; see {location}"),
                )
            },
            AppError::Conflict(message) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            error @ AppError::PreconditionRequired => ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition_required",
                error.to_string(),
            ),
            error @ AppError::PreconditionFailed { .. } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                error.to_string(),
            ),
            AppError::Unavailable(message) => ApiError {
                retry_after_seconds: Some(5),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message)
            },
            AppError::InsufficientStorage(message) => ApiError {
                retry_after_seconds: Some(60),
                ..ApiError::new(StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage", message)
            },
            AppError::Internal(details) => {
                tracing::error!(error = %details, "request failed inside the service");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; it has been logged",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
                fields: self
                    .fields
                    .iter()
                    .map(|field| FieldOut {
                        field: &field.field,
                        message: &field.message,
                    })
                    .collect(),
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(location) = self
            .location
            .as_deref()
            .and_then(|location| HeaderValue::from_str(location).ok())
        {
            response.headers_mut().insert(header::LOCATION, location);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"citypeers admin\""),
            );
        }
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
