"""WebSocket consumer: a signed-in person receives the live messages of their sites."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.selectors import visible_site_ids
from attendance_site.live.publisher import site_group_name


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.site_ids = await database_sync_to_async(visible_site_ids)(user)
        if not self.site_ids:
            await self.close(code=4403)
            return
        for site_id in self.site_ids:
            await self.channel_layer.group_add(site_group_name(site_id), self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "sites": sorted(self.site_ids)})

    async def disconnect(self, code):
        for site_id in getattr(self, "site_ids", ()):
            await self.channel_layer.group_discard(site_group_name(site_id), self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # The channel is one-way: what clients send (well-formed or not) is ignored,
        # so a misbehaving client cannot disturb its own or anyone else's stream.
        return

    async def dispatch(self, message):
        # Relaying a site message touches no database. Channels' own dispatch first closes
        # stale database connections through a thread hop, which halved fan-out speed.
        if message["type"] == "site.message":
            await self.site_message(message)
            return
        await super().dispatch(message)

    async def site_message(self, event):
        await self.send_json(event["message"])
