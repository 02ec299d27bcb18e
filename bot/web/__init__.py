"""The aiohttp side: the only package that imports aiohttp's server."""
