"""LINE's numbers for announcements through the real SDK: the monthly quota and its use, and per-unit statistics.

Implements :class:`bot.services.broadcasts.Insights` (the service never imports the SDK): ``GET
/v2/bot/message/quota`` and ``/quota/consumption`` for what is left this month, and ``GET
/v2/bot/insight/message/event/aggregation`` for the opens (unique impressions) and clicks of the messages
sent under one custom aggregation unit. A failed call says "unknown" (None) rather than stopping HR.
"""

from __future__ import annotations

import logging
from datetime import date

from linebot.v3.insight import AsyncApiClient as InsightApiClient
from linebot.v3.insight import AsyncInsight
from linebot.v3.insight import Configuration as InsightConfiguration
from linebot.v3.messaging import ApiException

from bot.channels.line_client import API_ERRORS, LineClient
from bot.services.broadcasts import Quota

log = logging.getLogger(__name__)

SDK_ERRORS: tuple[type[BaseException], ...] = (*API_ERRORS, ApiException)
"""What a call through the SDK's typed client may fail with (its ``ApiException`` besides the client's errors)."""


class LineInsights:
    """The quota and statistics of one LINE channel."""

    def __init__(self, client: LineClient) -> None:
        self.client = client
        self._insight_client: InsightApiClient | None = None

    @property
    def insight(self) -> AsyncInsight:
        """The insight API on its own SDK client (made on first use, inside the loop).

        The messaging client cannot serve it: the SDK reads an answer's model from the package of the
        client that made the call, and the statistics models live in ``linebot.v3.insight``.
        """
        if self._insight_client is None:
            config = self.client.api_client.configuration
            self._insight_client = InsightApiClient(InsightConfiguration(access_token=config.access_token,
                                                                         host=self.client.base_url))
        return AsyncInsight(self._insight_client)

    async def close(self) -> None:
        """Close the insight client (the messaging client belongs to the caller)."""
        if self._insight_client is not None:
            await self._insight_client.close()
            self._insight_client = None

    async def quota(self) -> Quota | None:
        """The current month's limit (None: unlimited) and the messages used so far; None when LINE did not answer."""
        try:
            limit = await self.client.api.get_message_quota(_request_timeout=self.client.timeout)
            used = await self.client.api.get_message_quota_consumption(_request_timeout=self.client.timeout)
        except SDK_ERRORS as exc:
            log.warning("LINE quota unavailable: %s", type(exc).__name__)
            return None
        return Quota(limit=limit.value if limit.type == "limited" else None, used=int(used.total_usage))

    async def unit_stats(self, unit: str, since: date, until: date) -> dict[str, int] | None:
        """Opens (unique impressions) and clicks (unique) of the unit's messages, or None when unavailable."""
        try:
            stats = await self.insight.get_statistics_per_unit(unit, since.strftime("%Y%m%d"), until.strftime("%Y%m%d"),
                                                               _request_timeout=self.client.timeout)
        except SDK_ERRORS as exc:
            log.warning("LINE statistics unavailable: %s", type(exc).__name__)
            return None
        opens = sum(m.unique_impression or 0 for m in stats.messages)
        clicks = sum(c.unique_click or 0 for c in stats.clicks)
        return {"opens": opens, "clicks": clicks}
