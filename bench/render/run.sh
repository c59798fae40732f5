#!/usr/bin/env bash
# Render benchmark (issue 5): the render worker's render_take() against the ffmpeg CLI
# composing the same final.mp4 from the same chunks, for 2 and 4 participants, in the same run.
#   bench/render/run.sh                  # a 5-minute take
#   DURATION_S=20 bench/render/run.sh    # a short one, while developing
#   PARTICIPANTS=4 bench/render/run.sh   # 2 and/or 4
# The inputs are made on the first run (bench/render/make_inputs.sh, several minutes for
# 5 minutes of four participants) and kept in bench/.cache/render/, made again when the
# generator changes. Needs build/bench/render_bench (`make build`) and the ffmpeg CLI with
# libvpx, libopus and libx264. Prints a markdown table for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION_S=${DURATION_S:-300}
PARTICIPANTS=${PARTICIPANTS:-2 4}
bin=build/bench/render_bench
cache=bench/.cache/render
room=bench

for tool in ffmpeg ffprobe "$bin"; do
  command -v "$tool" >/dev/null || { echo "render bench needs $tool (make build; apt-get install ffmpeg)" >&2; exit 1; }
done

# The inputs for DURATION_S, made if missing or made by another version of the generator.
ensure_inputs() {
  local hash; hash=$(sha256sum bench/render/make_inputs.sh | cut -c1-12)
  inputs=$PWD/$cache/inputs-${DURATION_S}s-$hash
  [ -d "$inputs" ] && return
  rm -rf "$cache"/inputs-"${DURATION_S}"s-*
  echo "making the inputs in $inputs (once)" >&2
  bench/render/make_inputs.sh "$inputs.partial" "$DURATION_S"
  mv "$inputs.partial" "$inputs"
}

# Line i (0-based) of participants.tsv: user offset_ms chunks.
participant() { sed -n "$(($1 + 1))p" "$inputs/participants.tsv"; }

# A participant's chunks in index order, as one input of the concat protocol.
concat_url() {
  local user=$1 count=$2 url=concat: k
  for ((k = 0; k < count; k++)); do url+="$inputs/objects/recordings/$room/$user/$k.webm|"; done
  echo "${url%|}"
}

# Fills peer (an array) with the ffmpeg command composing the first n participants into out:
# the renderer's grid, timeline placement (tpad / adelay by each one's offset), mix and
# loudness, encoders and settings (a keyframe every 2 s, no scene cuts).
peer_command() {
  local n=$1 out=$2 tw=640 th i user offset_ms count graph="" stack tiles="" mix=""
  case $n in
    2) th=720 stack="hstack=inputs=2" ;;
    4) th=360 stack="xstack=inputs=4:layout=0_0|640_0|0_360|640_360" ;;
    *) echo "PARTICIPANTS: 2 or 4, not $n" >&2; exit 1 ;;
  esac
  peer=(ffmpeg -nostdin -hide_banner -loglevel error -nostats -y)
  for ((i = 0; i < n; i++)); do
    read -r user offset_ms count <<<"$(participant "$i")"
    peer+=(-i "$(concat_url "$user" "$count")")
    graph+="[$i:v]fps=30,scale=$tw:$th:force_original_aspect_ratio=decrease:force_divisible_by=2,"
    graph+="pad=$tw:$th:(ow-iw)/2:(oh-ih)/2:black,setsar=1,"
    graph+="tpad=start_duration=$(awk -v ms="$offset_ms" 'BEGIN { printf "%.3f", ms / 1000 }'):color=black[v$i];"
    graph+="[$i:a]aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,adelay=$offset_ms:all=1[a$i];"
    tiles+="[v$i]" mix+="[a$i]"
  done
  graph+="$tiles$stack,format=yuv420p[v];"
  graph+="${mix}amix=inputs=$n:duration=longest:normalize=0,alimiter=limit=1:level=0:latency=1,"
  graph+="loudnorm=I=-16:TP=-1:LRA=11,aresample=48000[a]"
  peer+=(-filter_complex "$graph" -map "[v]" -map "[a]" -t "$DURATION_S"
    -c:v libx264 -preset veryfast -crf 23 -g 60 -keyint_min 60 -x264-params scenecut=0
    -c:a aac -b:a 128k -ar 48000 -ac 2 -movflags +faststart "$out")
}

# "ok", or what is wrong with file: not h264 1280x720 + aac, or not within a frame of the take.
check_output() {
  local file=$1 video audio duration problems=""
  video=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 "$file")
  audio=$(ffprobe -v error -select_streams a:0 -show_entries stream=codec_name -of csv=p=0 "$file")
  duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$file")
  [ "$video" = "h264,1280,720" ] || problems+=" video $video"
  [ "$audio" = "aac" ] || problems+=" audio $audio"
  awk -v d="$duration" -v want="$DURATION_S" 'BEGIN { e = d - want; exit !(e <= 1 / 30 && -e <= 1 / 30) }' ||
    problems+=" duration ${duration}s"
  echo "${problems:-ok}"
}

# The value of name in a render_bench line "name=value ...".
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

# One table row from a render_bench line.
row() {
  local n=$1 tool=$2 costs=$3 ratio=$4 check=$5
  printf '| %d | %s | %s | %s | %s | %s | %.2f | %s | %s |\n' "$n" "$tool" "$(field wall_s "$costs")" \
    "$(field cpu_s "$costs")" "$(field cpu_s_per_media_min "$costs")" "$(field peak_rss_mib "$costs")" \
    "$(awk -v c="$(field cpu_s "$costs")" -v w="$(field wall_s "$costs")" 'BEGIN { print c / w }')" "$ratio" "$check"
}

ensure_inputs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat "$inputs"/objects/recordings/$room/*/*.webm >/dev/null # both read from the page cache

echo "render: a ${DURATION_S} s take, 1280x720 30 fps, VP8+Opus WebM chunks of 10 s in a local folder"
echo "zencast $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(ffmpeg -version | head -1 | cut -d' ' -f1-3)," \
  "$(nproc) cores ($(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(date -u +%F)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
rows=() failed=0
for n in $PARTICIPANTS; do
  tracks=()
  for ((i = 0; i < n; i++)); do
    read -r user offset_ms _ <<<"$(participant "$i")"
    tracks+=("$user:$offset_ms")
  done
  peer_command "$n" "$work/ffmpeg-$n.mp4"
  load=$(cut -d' ' -f1 /proc/loadavg)
  ours=$("$bin" render $((DURATION_S * 1000)) "$inputs/objects" "$room" "$work/zencast-$n" "${tracks[@]}")
  echo "$n participants, zencast (load $load): $ours"
  load=$(cut -d' ' -f1 /proc/loadavg)
  theirs=$("$bin" exec $((DURATION_S * 1000)) "${peer[@]}")
  echo "$n participants, ffmpeg (load $load): $theirs"
  ours_check=$(check_output "$work/zencast-$n/final.mp4")
  theirs_check=$(check_output "$work/ffmpeg-$n.mp4")
  [ "$ours_check" = ok ] && [ "$theirs_check" = ok ] || failed=1
  ratio=$(awk -v t="$(field wall_s "$theirs")" -v o="$(field wall_s "$ours")" 'BEGIN { printf "%.2f", t / o }')
  rows+=("$(row "$n" "zencast render_take" "$ours" "$ratio" "$ours_check")")
  rows+=("$(row "$n" "ffmpeg CLI" "$theirs" "" "$theirs_check")")
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| participants | tool | wall s | CPU s | CPU s / media min | peak RSS MiB | CPU / wall | ffmpeg wall / ours | output |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit "$failed"
