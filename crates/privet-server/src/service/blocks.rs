//! Reading record blocks back: a store scan, each block opened with its subject's key. Reads,
//! export, purges and the My data page all read through [`Scan`]; what is inside a block and
//! which of its events are still live is `privet_policy::block`'s to say.

use crate::service::error::ServiceResult;
use crate::state::AppState;
use futures::StreamExt;
use privet_crypto::{DataKey, Pseudonym, RecordAad};
use privet_policy::OpenBlock;
use privet_store::{Block, BlockQuery, BlockStream};
use std::collections::HashMap;
use std::sync::Arc;

/// A running scan of blocks, opened one at a time (so memory stays constant).
pub struct Scan<'a> {
    state: &'a AppState,
    blocks: BlockStream,
    keys: HashMap<Pseudonym, Option<Arc<DataKey>>>,
}

impl<'a> Scan<'a> {
    /// Starts scanning the blocks matching `query`.
    pub async fn start(state: &'a AppState, query: BlockQuery) -> ServiceResult<Scan<'a>> {
        Ok(Scan {
            state,
            blocks: state.store().scan_blocks(query).await?,
            keys: HashMap::new(),
        })
    }

    /// The next block, not yet opened (so a reader can skip what it may not see unopened).
    pub async fn next_block(&mut self) -> ServiceResult<Option<Block>> {
        match self.blocks.next().await {
            Some(block) => Ok(Some(block?)),
            None => Ok(None),
        }
    }

    /// Opens a block with its subject's key; `None` when the key is gone (the subject was
    /// erased while the scan ran): without the key the block is noise.
    pub async fn open(&mut self, block: &Block) -> ServiceResult<Option<OpenBlock>> {
        let key = match self.keys.get(&block.subject) {
            Some(k) => k.clone(),
            None => {
                let k = self.state.keys().find(&block.subject).await?;
                self.keys.insert(block.subject, k.clone());
                k
            }
        };
        match key {
            Some(key) => Ok(Some(OpenBlock::open(&key, &aad(block), &block.payload)?)),
            None => Ok(None),
        }
    }

    /// The next block with its plaintext, skipping blocks whose key is gone.
    pub async fn next(&mut self) -> ServiceResult<Option<(Block, OpenBlock)>> {
        while let Some(block) = self.next_block().await? {
            if let Some(opened) = self.open(&block).await? {
                return Ok(Some((block, opened)));
            }
        }
        Ok(None)
    }
}

/// The associated data a block is sealed with: its id, subject and stream.
pub fn aad(block: &Block) -> RecordAad<'_> {
    RecordAad::new(block.id, block.subject, &block.stream)
}
