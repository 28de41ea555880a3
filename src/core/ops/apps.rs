//! Apps of a CometChat Management account: list, create, delete.

use crate::providers::ApiError;
use crate::providers::management::{App, AppDeletion, AppQuery, ManagementClient, NewApp};
use crate::providers::pager::Page;

use crate::config::Environment;

use super::{Guard, Recorder};

/// What deleting an app asks first: a confirmation that names it; its name typed on prod.
pub fn delete_guard(environment: Environment, app: &App) -> Guard {
    Guard::destructive(environment, &app.name)
}

pub async fn list(client: &ManagementClient, query: &AppQuery) -> Result<Page<App>, ApiError> {
    client.list_apps(query).await
}

pub async fn create(
    client: &ManagementClient,
    rec: &Recorder,
    new: &NewApp,
) -> Result<App, ApiError> {
    let result = client.create_app(new).await;
    let what = match &result {
        Ok(app) => format!("app {} ({})", app.name, app.id),
        Err(_) => format!("app {}", new.name),
    };
    rec.outcome("app.created", &what, &result);
    result
}

pub async fn delete(
    client: &ManagementClient,
    rec: &Recorder,
    app_id: &str,
) -> Result<AppDeletion, ApiError> {
    let result = client.delete_app(app_id).await;
    rec.outcome("app.deleted", &format!("app {app_id}"), &result);
    result
}
