#!/usr/bin/env bash
# Inputs of the render benchmark: four participants' recordings as MediaRecorder uploads
# them, in a local storage folder.
#   bench/render/make_inputs.sh OUT_DIR DURATION_S
#
# Each participant: 1280x720 30 fps, a picture of its own (testsrc2, its own hue, a box
# moving at its own speed) and voice-like audio (band-passed pink noise with a 4 Hz
# syllable rhythm, talking 2.5 s in every 12 s, each at its own instants), encoded as
# Chrome's MediaRecorder does (live WebM, VP8 realtime ~2.5 Mbit/s, Opus), cut at arbitrary
# bytes into 10-second chunks (only chunk 0 has the header), stored as
#   OUT_DIR/objects/recordings/bench/<user>/<index>.webm
# Participant i starts OFFSET_MS after the take start and records until the take's end, so
# its recording is DURATION_S minus its offset long. OUT_DIR/participants.tsv: one line
# per participant, "<user> <offset_ms> <chunks>", in tile order.
set -euo pipefail

out=$1
duration_s=$2
room=bench
chunk_s=10
offsets_ms=(120 340 560 780) # when each one's recorder started, after the take start

# One participant's recording as one WebM file.
encode() {
  local i=$1 file=$2
  local seconds; seconds=$(awk -v d="$duration_s" -v o="${offsets_ms[i]}" 'BEGIN { printf "%.3f", d - o / 1000 }')
  local hue=$((i * 90)) speed=$((180 + i * 60)) talk_at=$((i * 3))
  local picture="testsrc2=s=1280x720:r=30:d=$seconds,hue=h=$hue,"
  picture+="drawbox=x='mod(t*$speed\\,1080)':y=$((100 + i * 120)):w=200:h=200:c=white@0.8:t=fill,"
  picture+="noise=alls=6:allf=t"
  local voice="anoisesrc=c=pink:r=48000:a=0.5:seed=$((i + 1)):d=$seconds,"
  voice+="bandpass=f=900:width_type=h:w=1400,"
  voice+="volume='if(lt(mod(t-$talk_at\\,12)\\,2.5)\\,0.6+0.4*sin(2*PI*4*t)\\,0)':eval=frame"
  ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "$picture" -f lavfi -i "$voice" \
    -c:v libvpx -deadline realtime -cpu-used 8 -b:v 2500k -g 150 -live 1 \
    -c:a libopus -b:a 64k -ac 1 -f webm "$file"
}

# Cuts file into chunks of about chunk_s seconds each, at arbitrary bytes (a fixed
# pseudo-random shift of up to +-16 KiB from the even split). Prints how many.
split_chunks() {
  local i=$1 file=$2 dir=$3
  local size; size=$(stat -c %s "$file")
  local seconds=$((duration_s - offsets_ms[i] / 1000))
  local count=$(((seconds + chunk_s - 1) / chunk_s))
  local start=0 k end
  mkdir -p "$dir"
  for ((k = 0; k < count; k++)); do
    if ((k == count - 1)); then end=$size; else
      end=$((size * (k + 1) / count + (k * 7919 + i * 104729) % 32768 - 16384)); fi
    dd if="$file" of="$dir/$k.webm" bs=1M iflag=skip_bytes,count_bytes skip=$start count=$((end - start)) \
      status=none
    start=$end
  done
  echo "$count"
}

mkdir -p "$out/objects"
: >"$out/participants.tsv"
for i in "${!offsets_ms[@]}"; do
  user=p$((i + 1))
  echo "generating $user: ${duration_s} s minus ${offsets_ms[i]} ms" >&2
  encode "$i" "$out/$user.webm"
  count=$(split_chunks "$i" "$out/$user.webm" "$out/objects/recordings/$room/$user")
  rm "$out/$user.webm"
  echo "$user ${offsets_ms[i]} $count" >>"$out/participants.tsv"
done
