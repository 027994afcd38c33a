// Profile and case pages: everything is server-rendered; the script adds the contact form.
import { loadStrings } from './lib/i18n.js';
import { bindContactButtons } from './lib/contact.js';

await loadStrings();
bindContactButtons();
