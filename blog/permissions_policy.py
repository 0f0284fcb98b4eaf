"""The Permissions-Policy header: every browser capability the site does not
use denied, to its pages and to anything they might embed. The readers'
pages run no script at all; the admin's scripts use one of these, `unload`
(Django's RelatedObjectLookups.js closes its pop-ups with an unload
handler), which is therefore left allowed. An injected script (which the
Content-Security-Policy should already stop) could not reach the camera,
the location, payments, USB...

The header is set by django-permissions-policy's middleware from the
PERMISSIONS_POLICY setting (site/settings.py) on every response Django
produces; cache hits replay it, like the other security headers
(cache/entry.py STORED_HEADERS).

The names are the policy-controlled features that Chromium knows (a name a
browser does not know only earns a console warning, so each one here is
checked against Debian's Chromium in tests/e2e), plus `web-share`, which
Chromium knows only on the platforms that have a share sheet (phones,
Windows, macOS). Client hints (`ch-*`) are left out on purpose: they are not
capabilities but which request headers a browser may send this site, which
never asks for them (no Accept-CH), so denying them would only lengthen
every response by half a kilobyte.
"""

DENIED_FEATURES = (
    "accelerometer", "aria-notify", "autoplay", "browsing-topics", "camera",
    "captured-surface-control", "clipboard-read", "clipboard-write", "compute-pressure",
    "cross-origin-isolated", "deferred-fetch", "deferred-fetch-minimal",
    "digital-credentials-create", "digital-credentials-get", "display-capture",
    "encrypted-media", "fullscreen", "gamepad", "geolocation", "gyroscope", "hid",
    "identity-credentials-get", "idle-detection", "interest-cohort", "keyboard-map",
    "language-detector", "language-model", "local-fonts", "local-network",
    "local-network-access", "loopback-network", "magnetometer",
    "media-playback-while-not-visible", "microphone", "midi", "on-device-speech-recognition",
    "otp-credentials", "payment", "picture-in-picture", "private-state-token-issuance",
    "private-state-token-redemption", "publickey-credentials-create",
    "publickey-credentials-get", "screen-wake-lock", "serial", "speaker-selection",
    "storage-access", "summarizer", "sync-xhr", "translator", "usb", "web-share",
    "window-management", "xr-spatial-tracking",
)

# django-permissions-policy's setting: feature -> allowed origins (none).
POLICY = {feature: [] for feature in DENIED_FEATURES}
