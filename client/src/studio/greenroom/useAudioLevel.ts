// The microphone's level, 0..1 (RMS in dBFS mapped from -60..0 dB), read about 15 times a second
// from a Web Audio AnalyserNode.
import { useEffect, useState } from 'react';

const FLOOR_DB = -60;
const INTERVAL_MS = 66;

export function useAudioLevel(stream: MediaStream | null): number {
  const [level, setLevel] = useState(0);

  useEffect(() => {
    const track = stream?.getAudioTracks()[0];
    if (!stream || !track) {
      setLevel(0);
      return;
    }
    const context = new AudioContext();
    const source = context.createMediaStreamSource(new MediaStream([track]));
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    // A context made before any user gesture starts suspended; the first gesture resumes it.
    const resume = () => void context.resume();
    window.addEventListener('pointerdown', resume, { once: true });
    window.addEventListener('keydown', resume, { once: true });
    void context.resume();

    const timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const rms = Math.sqrt(sum / samples.length);
      const db = rms > 0 ? 20 * Math.log10(rms) : FLOOR_DB;
      setLevel(track.enabled ? Math.min(1, Math.max(0, (db - FLOOR_DB) / -FLOOR_DB)) : 0);
    }, INTERVAL_MS);

    return () => {
      clearInterval(timer);
      window.removeEventListener('pointerdown', resume);
      window.removeEventListener('keydown', resume);
      source.disconnect();
      void context.close();
    };
  }, [stream]);

  return level;
}
