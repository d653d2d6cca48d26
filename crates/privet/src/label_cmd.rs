//! `privet label FILE…` and `privet label compare A B…`.

use crate::cli::{LabelArgs, LabelCmd, LabelFormat};
use crate::manifest_cmd::{lint_context, load};
use anyhow::bail;
use privet_manifest::label::{self, Label, LabelContext};
use std::path::PathBuf;
use std::process::ExitCode;

fn labels(files: &[PathBuf]) -> anyhow::Result<Vec<Label>> {
    let cx = LabelContext::privet(lint_context().today);
    files
        .iter()
        .map(|f| Ok(Label::from_manifest(&load(f)?, &cx)))
        .collect()
}

pub(crate) fn run(args: LabelArgs) -> anyhow::Result<ExitCode> {
    match args.compare {
        Some(LabelCmd::Compare(c)) => {
            let labels = labels(&c.files)?;
            match c.format {
                LabelFormat::Text => print!("{}", label::compare_text(&labels)),
                LabelFormat::Json => println!("{}", label::json(&labels)?),
                LabelFormat::Html => print!("{}", label::compare_html(&labels)?),
            }
        }
        None => {
            if args.files.is_empty() {
                bail!("give one or more manifest files, or `privet label compare A B`");
            }
            let labels = labels(&args.files)?;
            match args.format {
                LabelFormat::Text => {
                    for (i, l) in labels.iter().enumerate() {
                        if i > 0 {
                            println!();
                        }
                        print!("{}", label::text(l));
                    }
                }
                LabelFormat::Json => println!("{}", label::json(&labels)?),
                LabelFormat::Html => print!("{}", label::html(&labels)?),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
