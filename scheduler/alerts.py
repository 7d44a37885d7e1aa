"""Where admins are alerted: a board or a delivery target starting to fail, and recovering.

`storage.health` decides *when* (one alert per outage, one per recovery); this module words the
alert (`alert.txt.j2`) and sends it to every `[notify] admin_urls` target.
"""

from __future__ import annotations

from notify.errors import DeliveryError
from notify.views import BoardAlert, DeliveryAlert
from scheduler import compat
from scheduler.context import Context
from scheduler.logs import LOG


def send_alert(ctx: Context, alert: BoardAlert | DeliveryAlert) -> list[str]:
    """Send one alert to every admin target; returns the targets' errors (masked)."""
    from notify.digest import TemplateFailed
    from notify.send import send

    compat.share_apprise_ssl_contexts()  # one SSL context per setting: see scheduler.compat

    try:
        message = ctx.renderer.alert(alert, ctx.now())
    except TemplateFailed as failed:  # a user's alert.txt.j2 that fails: said, not raised
        LOG.error("admin alert not sent: the template failed: %s", failed)
        return [f"the alert template failed: {failed}"]
    LOG.warning("%s", message.title)
    errors = []
    for url in ctx.cfg.notify.admin_urls:
        try:
            send(url, message)
        except DeliveryError as error:  # the next admin target is alerted all the same
            errors.append(str(error))
            LOG.error("admin alert to %s failed: %s", error.target, error.reason)
    return errors
