//! Shared set-up for tests that talk to a real sandbox over loopback HTTP.
#![allow(dead_code)]

use keydeck::providers::cometchat::{AppEndpoint, CometChatClient};
use keydeck::providers::management::ManagementClient;
use keydeck::sandbox::{Sandbox, SandboxOptions};
use keydeck::secret::Secret;

/// A sandbox on an ephemeral port, in memory, without the demo users.
pub async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions {
        port: 0,
        data: None,
        seed_demo_users: false,
    })
    .await
    .expect("sandbox starts")
}

pub fn endpoint(sb: &Sandbox) -> AppEndpoint {
    let app = &sb.info().cometchat.apps[0];
    AppEndpoint {
        app_id: app.app_id.clone(),
        region: app.region.clone(),
        base_url: Some(app.base_url.clone()),
    }
}

/// A client of the demo app with its fullAccess key.
pub fn full_client(sb: &Sandbox) -> CometChatClient {
    let app = &sb.info().cometchat.apps[0];
    CometChatClient::new(&endpoint(sb), Secret::new(app.rest_api_key.clone())).expect("client")
}

/// A client of the demo app with its authOnly key.
pub fn auth_only_client(sb: &Sandbox) -> CometChatClient {
    let app = &sb.info().cometchat.apps[0];
    CometChatClient::new(&endpoint(sb), Secret::new(app.auth_key.clone())).expect("client")
}

pub fn management_client(sb: &Sandbox) -> ManagementClient {
    let m = sb.info().cometchat.management;
    ManagementClient::new(Some(&m.base_url), Secret::new(m.key), Secret::new(m.secret))
        .expect("management client")
}
