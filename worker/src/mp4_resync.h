/* A fragmented MP4 (what Safari's MediaRecorder writes: ftyp, a moov without samples, then
 * moof + mdat fragments) read from a chunk_stream so that a lost or damaged chunk is a gap
 * in the media, not its end.
 *
 * FFmpeg's mov demuxer walks the file box by box and has no resync: a box cut by a lost
 * chunk, or a box header in garbage, throws it off for good and everything after is lost.
 * So the demuxer is given a repaired stream instead of the raw one: the top-level boxes are
 * checked as they go by; a box cut by a break in the chunks is completed with zeros (its
 * samples there fail to decode: a gap), a moof is held back until it and the header after it
 * prove whole, and after a cut or a header that is not one, the stream goes on from the next
 * moof found in the bytes (a 'moof' box whose first child is 'mfhd'). The demuxer then sees
 * well-formed fragments only, and times each by its tfdt (baseMediaDecodeTime): the media
 * after a gap keeps its own time.
 *
 * The repaired stream is read straight through (not seekable), one fragment at a time; so
 * the demuxer no longer walks every fragment's header at open (a storage read each), but
 * tells only the first fragments' duration.
 * Garbage inside an mdat is passed on as it is (the decoders reject it, as for WebM).
 * Limits: a tfhd with an absolute base-data-offset (not default-base-is-moof) no longer
 * points right after a gap; a box of size 0 (to the end) is passed on unchecked. */
#ifndef ZC_MP4_RESYNC_H
#define ZC_MP4_RESYNC_H

#include <stdbool.h>
#include <stdint.h>

#include <libavformat/avio.h>

#include "chunk_stream.h"

typedef struct mp4_resync mp4_resync;

/* Whether cs holds a fragmented MP4: its first box is 'ftyp' and its moov, within the first
 * 64 KiB, has an 'mvex'. Reads the stream's first bytes, then rewinds it (before its
 * AVIOContext is used). */
bool mp4_resync_applies(chunk_stream *cs);
/* Reads cs from its first byte through chunk_stream_read; cs must outlive it and its own
 * AVIOContext is not to be used. NULL on no memory. */
mp4_resync *mp4_resync_open(chunk_stream *cs);
/* The read-only, non-seekable AVIOContext over the repaired stream, owned by it (as
 * chunk_stream_avio). NULL on no memory. */
AVIOContext *mp4_resync_avio(mp4_resync *rs);
/* The chunk holding byte pos of the repaired stream, -1 when it cannot be told (zeros put
 * in, a size unknown, or not read yet). */
int mp4_resync_chunk_at(const mp4_resync *rs, int64_t pos);
/* How many times the stream went on from the next moof, so far. */
int64_t mp4_resync_count(const mp4_resync *rs);
/* Frees the AVIOContext and everything else, not cs. Close the demuxer first. */
void mp4_resync_close(mp4_resync *rs);

#endif
