"""The signed picture links of ``abc-bot serve``: certificate photos and the announcements' pictures.

``GET /media/claims/<id>/<full|preview>/<expires>/<sig>.jpg`` and
``GET /media/announcements/<sha256>/<full|preview>/<sig>.jpg``.

LINE shows an image only from an HTTPS URL, so HR's review links to the claim's photo through here. The
link is checked first (:class:`bot.services.certificates.UrlSigner`: HMAC over the claim id, the variant
and the expiry, in constant time); anything wrong (a guess, a tampered or expired link, a claim or
file that is gone) gets the same bare 404, so nothing can be learned by trying. The preview is scaled
for LINE's ``previewImageUrl`` (240 px). Responses are ``private, no-store``. An announcement's picture
(:mod:`bot.services.broadcasts.media`) is meant for all its recipients: a valid link is served with
``public, max-age=86400`` so LINE's servers and phones may keep it; anything else is the same bare 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bot.services.certificates import PATH_PREFIX, preview

if TYPE_CHECKING:
    from bot.runtime import Runtime

ROUTE = PATH_PREFIX + "{tail:.*}"
ANNOUNCEMENT_ROUTE = "/media/announcements/{tail:.*}"


def not_found() -> web.Response:
    """The one answer to every link that does not work."""
    return web.Response(status=404, body=b"")


def photo_handler(runtime: Runtime) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler serving signed photo links for ``runtime``."""
    from bot.db.models.certificates import CertificateClaim

    async def handle(request: web.Request) -> web.StreamResponse:
        deps = runtime.app.certificates
        if deps.signer is None:
            return not_found()
        signed = deps.signer.verify(request.path, runtime.clock.now())
        if signed is None:
            return not_found()
        async with runtime.sessions() as session:
            row = await session.get(CertificateClaim, signed.claim_id)
            sha = row.photo_sha256 if row is not None and row.photo_deleted_at is None else None
        data = deps.store.read(sha) if sha else None
        if data is None:
            return not_found()
        if signed.variant == "preview":
            data = preview(data, deps.settings.photos.preview_max_side)
        return web.Response(body=data, content_type="image/jpeg",
                            headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})

    return handle


def announcement_image_handler(runtime: Runtime) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler serving the signed links of announcement pictures (404 without a secret and base URL)."""
    from bot.services.broadcasts import ImageSigner, ImageStore

    settings = runtime.settings
    signer = (ImageSigner(settings.media_url_secret.encode(), settings.public_base_url)
              if settings.media_url_secret and settings.public_base_url else None)
    store = ImageStore(settings.media_dir)

    async def handle(request: web.Request) -> web.StreamResponse:
        named = signer.verify(request.path) if signer is not None else None
        data = store.read(*named) if named is not None else None
        if data is None:
            return not_found()
        return web.Response(body=data, content_type="image/jpeg",
                            headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})

    return handle
