"""The VK community-messages front-end (vkbottle 4): events in, the advisor's replies out."""
