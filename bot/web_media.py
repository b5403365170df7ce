"""The signed photo links of ``abc-bot serve``: ``GET /media/claims/<id>/<full|preview>/<expires>/<sig>.jpg``.

LINE shows an image only from an HTTPS URL, so HR's review links to the claim's photo through here. The
link is checked first (:class:`bot.services.certificates.UrlSigner`: HMAC over the claim id, the variant
and the expiry, in constant time); anything wrong (a guess, a tampered or expired link, a claim or
file that is gone) gets the same bare 404, so nothing can be learned by trying. The preview is scaled
for LINE's ``previewImageUrl`` (240 px). Responses are ``private, no-store``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bot.services.certificates import PATH_PREFIX, preview

if TYPE_CHECKING:
    from bot.runtime import Runtime

ROUTE = PATH_PREFIX + "{tail:.*}"


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
