"""
proxy-page.py DIR: the test site of test_proxy_chromium.sh: index.html
with a 16x16 PNG and a 5-minute WAV (57.6 MB: more than Chromium buffers
ahead) in a <video> element.  The page's script plays it, seeks to 280 s
once it plays (a Range request from the middle of the file) and reports
in <div id="s">: img=true played=true seeked=true when all went well.
(No video encoder ships on the test machine, so the media is PCM audio;
Chromium's media pipeline fetches and seeks it by Range requests exactly
as it does a video.)
"""
import sys, struct, zlib, wave, math, os
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
def chunk(t, b): return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b) & 0xffffffff)
raw = b''.join(b'\x00' + b'\xff\x00\x00' * 16 for _ in range(16))
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 16, 16, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
open(os.path.join(d, 'a.png'), 'wb').write(png)
w = wave.open(os.path.join(d, 'clip.wav'), 'wb')
w.setnchannels(2); w.setsampwidth(2); w.setframerate(48000)
sec = b''.join(struct.pack('<hh', int(8000 * math.sin(i * 0.05)), 0) for i in range(48000))
for _ in range(300):
    w.writeframes(sec)
w.close()
open(os.path.join(d, 'index.html'), 'w').write('''<!DOCTYPE html>
<html><head><title>bits test page</title></head><body>
<img id="i" src="a.png"><video id="v" src="clip.wav" muted autoplay preload="auto"></video>
<div id="s">waiting</div>
<script>
var st = { img: false, played: false, seeked: false };
function show() { document.getElementById('s').textContent =
  'img=' + st.img + ' played=' + st.played + ' seeked=' + st.seeked +
  ' rs=' + v.readyState + ' t=' + v.currentTime.toFixed(1) + ' err=' + (v.error ? v.error.code : 0) + ' paused=' + v.paused; }
var i = document.getElementById('i');
var v = document.getElementById('v');
function imgok() { st.img = i.naturalWidth == 16; show(); }
i.onload = imgok; if (i.complete) imgok();
var v = document.getElementById('v');
v.addEventListener('seeked', function () {
  if (st.played && v.currentTime >= 279) st.seeked = true; show(); });
v.addEventListener('timeupdate', function () {
  if (!st.played && v.currentTime > 0) { st.played = true; v.currentTime = 280; }
  else if (st.played && v.currentTime >= 25) { st.seeked = true; }
  show();
});
v.play().catch(function (e) { document.title = 'play: ' + e; });
setInterval(show, 250);
show();
</script></body></html>
''')
