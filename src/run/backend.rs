//! The tensor backend runs train on: part of an experiment's settings and of every run's id,
//! since the two backends' floating-point results differ in their last bits.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// The tensor backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn's ndarray backend.
    Ndarray,
    /// burn's flex backend: about twice ndarray's throughput here, so the default when built
    /// (it is, unless `--no-default-features`).
    Flex,
}

impl Default for Backend {
    fn default() -> Backend {
        if cfg!(feature = "flex") {
            Backend::Flex
        } else {
            Backend::Ndarray
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Ndarray => "ndarray",
            Backend::Flex => "flex",
        }
    }

    // burn marks ndarray deprecated in favour of flex; it stays available beside it.
    #[allow(deprecated)]
    pub fn device(self) -> anyhow::Result<Device> {
        match self {
            Backend::Ndarray => Ok(Device::ndarray()),
            #[cfg(feature = "flex")]
            Backend::Flex => Ok(Device::flex()),
            #[cfg(not(feature = "flex"))]
            Backend::Flex => anyhow::bail!(
                "--backend flex: this binary was built without the flex backend; rebuild without `--no-default-features`"
            ),
        }
    }
}
