//! `privet psti FILE`: the PSTI statement of compliance, from the manifest.

use crate::cli::PstiArgs;
use crate::dpia_cmd::read_manifest;
use std::process::ExitCode;

pub(crate) fn run(args: &PstiArgs) -> anyhow::Result<ExitCode> {
    let (_, m) = read_manifest(&args.file)?;
    print!("{}", privet_manifest::psti::statement(&m));
    Ok(ExitCode::SUCCESS)
}
