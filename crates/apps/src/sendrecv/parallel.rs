//! The parallel version: one object each way between ranks 0 and 1, then a barrier.

use parsci_comm::Comm;

use super::message::{Payload, Reply};
use super::{serial, SendRecv, SendRecvResult, DATA_TAG, REPLY_TAG};
use crate::error::{Error, Result};
use crate::program::{gather_lines, rank_tag, root_output, Output, Program};

/// Runs on every rank: rank 0 sends the payload to rank 1 (tag 11), rank 1 replies
/// (tag 22), the other ranks idle; everybody meets at a barrier.
pub fn run(comm: &Comm) -> Result<Option<Output<SendRecvResult>>> {
    if comm.size() < SendRecv::MIN_RANKS {
        return Err(Error::TooFewRanks { program: SendRecv::NAME, needed: SendRecv::MIN_RANKS, got: comm.size() });
    }
    let tag = rank_tag(comm);
    let mut lines = Vec::new();
    let mut exchanged: Option<(Payload, Reply)> = None;
    match comm.rank() {
        0 => {
            let payload = serial::payload();
            comm.send_obj(&payload, 1, DATA_TAG)?;
            lines.push(format!("{tag} Sent {payload} to rank 1 with tag {DATA_TAG}"));
            let (reply, st) = comm.recv_obj::<Reply>(1, REPLY_TAG)?;
            lines.push(format!("{tag} Received reply {reply} from rank {} with tag {}", st.source, st.tag));
            exchanged = Some((payload, reply));
        }
        1 => {
            let (payload, st) = comm.recv_obj::<Payload>(0, DATA_TAG)?;
            lines.push(format!("{tag} Received {payload} from rank {} with tag {}", st.source, st.tag));
            let status = if payload.data.is_empty() { "empty" } else { "ok" };
            let reply = Reply { status: status.into(), receiver: comm.rank() };
            comm.send_obj(&reply, 0, REPLY_TAG)?;
            lines.push(format!("{tag} Sent reply {reply} to rank 0 with tag {REPLY_TAG}"));
            exchanged = Some((payload, reply));
        }
        _ => lines.push(format!("{tag} Idle: nothing to send or receive, waiting at the barrier")),
    }
    comm.barrier()?;
    // Rank 1 saw the payload arrive; rank 0 saw the reply arrive.
    let seen = comm.gather_obj(&exchanged, 0)?;
    let lines = gather_lines(comm, lines)?.map(|mut lines| {
        lines.push(format!("{tag} Every rank passed the barrier"));
        lines
    });
    let Some(mut seen) = seen else { return Ok(None) };
    let (Some((sent, reply)), Some((received, _))) = (seen[0].take(), seen[1].take()) else {
        let msg = "ranks 0 and 1 did not both report their exchange".to_string();
        return Err(Error::Protocol { program: SendRecv::NAME, rank: 0, msg });
    };
    Ok(root_output(lines, || SendRecvResult { sent, received, reply }))
}
