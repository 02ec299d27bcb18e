"""WeCom (企业微信) self-built app: callbacks, app messages, customer contact, group robot."""
