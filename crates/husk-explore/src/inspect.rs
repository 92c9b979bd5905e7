//! [`summarize`]: what `husk inspect` shows, computed from the manifest and config alone
//! (no layer is read): digest, platform, how a container runs, layers with what created
//! them, and the history.

use std::collections::BTreeMap;

use husk_oci::Image;
use serde::Serialize;

use crate::error::ExploreError;

/// One layer as the manifest and config describe it.
#[derive(Debug, Clone, Serialize)]
pub struct LayerInfo {
    pub index: usize,
    pub digest: String,
    pub media_type: String,
    /// Compressed (blob) size.
    pub size: u64,
    pub diff_id: Option<String>,
    pub created_by: Option<String>,
    pub comment: Option<String>,
}

/// One history entry.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryInfo {
    pub created: Option<String>,
    pub created_by: Option<String>,
    pub comment: Option<String>,
    pub empty_layer: bool,
}

/// The healthcheck, durations in nanoseconds as the config stores them.
#[derive(Debug, Clone, Serialize)]
pub struct HealthcheckInfo {
    pub test: Vec<String>,
    pub interval: Option<i64>,
    pub timeout: Option<i64>,
    pub start_period: Option<i64>,
    pub retries: Option<i64>,
}

/// Everything `husk inspect` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub location: String,
    pub digest: String,
    pub manifest_media_type: Option<String>,
    pub config_digest: String,
    pub platform: String,
    pub created: Option<String>,
    pub author: Option<String>,
    pub user: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub ports: Vec<String>,
    pub volumes: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub stop_signal: Option<String>,
    pub healthcheck: Option<HealthcheckInfo>,
    pub annotations: BTreeMap<String, String>,
    pub layers: Vec<LayerInfo>,
    pub history: Vec<HistoryInfo>,
}

/// Summarise `image` from its manifest and config.
///
/// # Errors
/// [`ExploreError::Oci`] when the manifest or config cannot be read or parsed.
pub fn summarize(image: &dyn Image) -> Result<Summary, ExploreError> {
    let manifest = image.manifest()?;
    let config = image.config()?;
    let rc = config.config.clone().unwrap_or_default();
    let mut created_by = config.history.iter().filter(|h| !h.empty_layer);
    let layers = manifest
        .layers
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let h = created_by.next();
            LayerInfo {
                index: i,
                digest: d.digest.to_string(),
                media_type: d.media_type.clone(),
                size: d.size,
                diff_id: config.rootfs.diff_ids.get(i).map(ToString::to_string),
                created_by: h.and_then(|h| h.created_by.clone()),
                comment: h.and_then(|h| h.comment.clone()),
            }
        })
        .collect();
    Ok(Summary {
        location: image.location(),
        digest: image.digest()?.to_string(),
        manifest_media_type: manifest.media_type.clone(),
        config_digest: manifest.config.digest.to_string(),
        platform: config.platform().to_string(),
        created: config.created.clone(),
        author: config.author.clone(),
        user: rc.user.clone(),
        entrypoint: rc.entrypoint.clone(),
        cmd: rc.cmd.clone(),
        env: rc.env.clone().unwrap_or_default(),
        workdir: rc.working_dir.clone(),
        ports: rc
            .exposed_ports
            .as_ref()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default(),
        volumes: rc
            .volumes
            .as_ref()
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default(),
        labels: rc.labels.clone().unwrap_or_default(),
        stop_signal: rc.stop_signal.clone(),
        healthcheck: rc.healthcheck.as_ref().map(|h| HealthcheckInfo {
            test: h.test.clone().unwrap_or_default(),
            interval: h.interval,
            timeout: h.timeout,
            start_period: h.start_period,
            retries: h.retries,
        }),
        annotations: manifest.annotations.clone(),
        layers,
        history: config
            .history
            .iter()
            .map(|h| HistoryInfo {
                created: h.created.clone(),
                created_by: h.created_by.clone(),
                comment: h.comment.clone(),
                empty_layer: h.empty_layer,
            })
            .collect(),
    })
}
