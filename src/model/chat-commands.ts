// The chats' own commands, beside the command table's: a lab command (`[[chat.commands]]`) may
// not take one of these names (config/schema.ts refuses it, commands/lab.ts checks it again).
export const BOT_COMMAND_NAMES = ['help', 'link', 'unlink', 'when-free'] as const;
