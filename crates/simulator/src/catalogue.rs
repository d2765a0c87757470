//! Meta's error codes as the simulator reports them: titles and details taken from the Cloud API
//! error-code reference, shaped as synchronous Graph errors or as `errors[]` items of webhooks.

use whatsapp::error::{ApiError, ErrorData, GraphError, GraphErrorBody};

/// Where Meta's error objects point for help.
pub const ERROR_HREF: &str =
    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/";

/// The documented title and details of an error code; a generic pair for unknown codes.
pub(crate) fn describe(code: i64) -> (&'static str, &'static str) {
    match code {
        0 => (
            "AuthException",
            "We were unable to authenticate the app user.",
        ),
        1 => ("API Unknown", "Invalid request or possible server error."),
        2 => (
            "API Service",
            "Temporary due to downtime or due to being overloaded.",
        ),
        3 => ("API Method", "Capability or permissions issue."),
        4 => (
            "API Too Many Calls",
            "The app has reached its API call rate limit.",
        ),
        10 => (
            "Permission Denied",
            "Permission is either not granted or has been removed.",
        ),
        100 => (
            "Invalid parameter",
            "The request included one or more unsupported or misspelled parameters.",
        ),
        190 => ("Access token has expired", "Your access token has expired."),
        200..=299 => (
            "API Permission",
            "Permission is either not granted or has been removed.",
        ),
        368 => (
            "Temporarily blocked for policies violations",
            "The WhatsApp Business Account associated with the app has been restricted or disabled for violating a platform policy.",
        ),
        80007 => (
            "Rate limit issues",
            "The WhatsApp Business Account has reached its rate limit.",
        ),
        130429 => (
            "Rate limit hit",
            "Cloud API message throughput has been reached.",
        ),
        130472 => (
            "User's number is part of an experiment",
            "Message was not sent as part of an experiment.",
        ),
        130497 => (
            "Business account is restricted from messaging users in this country",
            "The WhatsApp Business Account is restricted from messaging users in certain countries.",
        ),
        131000 => (
            "Something went wrong",
            "Message failed to send due to an unknown error.",
        ),
        131005 => (
            "Access denied",
            "Permission is either not granted or has been removed.",
        ),
        131008 => (
            "Required parameter is missing",
            "The request is missing a required parameter.",
        ),
        131009 => (
            "Parameter value is not valid",
            "One or more parameter values are invalid.",
        ),
        131016 => (
            "Service unavailable",
            "A service is temporarily unavailable.",
        ),
        131021 => (
            "Recipient cannot be sender",
            "Sender and recipient phone number is the same.",
        ),
        131026 => (
            "Message undeliverable",
            "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number; the recipient has not accepted our new Terms of Service and Privacy Policy; the recipient is using an old WhatsApp version.",
        ),
        131031 => (
            "Business Account locked",
            "The WhatsApp Business Account associated with the app has been restricted or disabled for violating a platform policy.",
        ),
        131042 => (
            "Business eligibility payment issue",
            "There was an error related to your payment method.",
        ),
        131045 => (
            "Incorrect certificate",
            "Message failed to send due to a phone number registration error.",
        ),
        131047 => (
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        ),
        131048 => (
            "Spam rate limit hit",
            "Message failed to send because there are restrictions on how many messages can be sent from this phone number. This may be because too many previous messages were blocked or flagged as spam.",
        ),
        131049 => (
            "This message was not delivered to maintain healthy ecosystem engagement.",
            "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
        ),
        131050 => (
            "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
            "The recipient has stopped marketing messages from your business.",
        ),
        131051 => (
            "Message type unknown",
            "Message type is currently not supported.",
        ),
        131052 => (
            "Media download error",
            "Unable to download the media sent by the user.",
        ),
        131053 => (
            "Media upload error",
            "Unable to upload the media used in the message.",
        ),
        131056 => (
            "(Business Account, Consumer Account) pair rate limit hit",
            "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
        ),
        131057 => (
            "Account in maintenance mode",
            "Business Account is in maintenance mode.",
        ),
        132000 => (
            "Number of parameters does not match the expected number of params",
            "The number of variable parameter values included in the request did not match the number of variable parameters defined in the template.",
        ),
        132001 => (
            "Template name does not exist in the translation",
            "The template does not exist in the specified language or the template has not been approved.",
        ),
        132005 => (
            "Template Hydrated Text Too Long",
            "Translated text is too long.",
        ),
        132007 => (
            "Template Format Character Policy Violated",
            "Template content violates a WhatsApp policy.",
        ),
        132012 => (
            "Template Parameter Format Mismatch",
            "Variable parameter values formatted incorrectly.",
        ),
        132015 => (
            "Template is Paused",
            "Template is paused due to low quality.",
        ),
        132016 => (
            "Template is Disabled",
            "Template has been paused too many times due to low quality and is now permanently disabled.",
        ),
        133010 => (
            "Phone number not registered",
            "The phone number is not registered on the WhatsApp Business Platform.",
        ),
        135000 => (
            "Generic user error",
            "Message failed to send because of an unknown error with your request parameters.",
        ),
        _ => ("Unknown error", "An unknown error occurred."),
    }
}

/// The `error` object of a synchronous Graph failure for `code`, with Meta's
/// `(#code) title` message (`details` overrides the documented details).
pub fn graph_error(code: i64, details: Option<&str>, fbtrace_id: &str) -> GraphErrorBody {
    let (title, default_details) = describe(code);
    let mut error = GraphError {
        message: format!("(#{code}) {title}"),
        kind: Some("OAuthException".to_owned()),
        code,
        error_subcode: None,
        error_data: Some(ErrorData {
            messaging_product: Some("whatsapp".to_owned()),
            details: Some(details.unwrap_or(default_details).to_owned()),
        }),
        fbtrace_id: Some(fbtrace_id.to_owned()),
    };
    if code == 190 {
        // Graph's own token check: no WhatsApp error_data, subcode 463 = expired session.
        error.message = "Error validating access token: Session has expired on Friday, 01-May-26 \
                         00:00:00 PDT. The current time is Saturday, 02-May-26 09:00:00 PDT."
            .to_owned();
        error.error_subcode = Some(463);
        error.error_data = None;
    }
    GraphErrorBody { error }
}

/// Graph's answer for an id that is not a phone number or media object it knows.
pub(crate) fn unknown_object(method: &str, id: &str, fbtrace_id: &str) -> GraphErrorBody {
    GraphErrorBody {
        error: GraphError {
            message: format!(
                "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be \
                 loaded due to missing permissions, or does not support this operation. Please \
                 read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
            ),
            kind: Some("GraphMethodException".to_owned()),
            code: 100,
            error_subcode: Some(33),
            error_data: None,
            fbtrace_id: Some(fbtrace_id.to_owned()),
        },
    }
}

/// The HTTP status Graph answers an error code with: 401 for authentication, else 400.
pub(crate) fn http_status(code: i64) -> u16 {
    match code {
        0 | 190 => 401,
        _ => 400,
    }
}

/// An `errors[]` item as it appears in `failed` status webhooks.
pub fn status_error(code: i64) -> ApiError {
    let (title, details) = describe(code);
    ApiError {
        code,
        title: Some(title.to_owned()),
        message: Some(title.to_owned()),
        error_data: Some(ErrorData {
            messaging_product: None,
            details: Some(details.to_owned()),
        }),
        href: Some(ERROR_HREF.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_errors_carry_the_code_in_the_message() {
        let body = graph_error(130429, None, "AZ");
        assert_eq!(body.error.message, "(#130429) Rate limit hit");
        assert_eq!(body.error.title(), "Rate limit hit");
        assert_eq!(
            body.error.details(),
            Some("Cloud API message throughput has been reached.")
        );
        assert!(body.error.message.starts_with("(#130429)"));
        let auth = graph_error(190, None, "AZ");
        assert!(
            auth.error
                .message
                .starts_with("Error validating access token")
        );
        assert_eq!(http_status(190), 401);
        assert_eq!(http_status(131047), 400);
    }

    #[test]
    fn status_errors_have_title_details_and_href() {
        let e = status_error(131047);
        assert_eq!(e.title.as_deref(), Some("Re-engagement message"));
        assert!(e.details().is_some_and(|d| d.contains("24 hours")));
        assert_eq!(e.href.as_deref(), Some(ERROR_HREF));
        assert_eq!(status_error(999).title.as_deref(), Some("Unknown error"));
    }
}
