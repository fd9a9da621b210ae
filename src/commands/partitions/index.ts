/** `lake partitions ...` */
import type { Registrar } from '../command.js';
import { registerList } from './list.js';
import { registerSync } from './sync.js';

export const registerPartitions: Registrar = (parent, app) => {
  const partitions = parent.command('partitions').description('register, repair and list the table\'s partitions');
  registerSync(partitions, app);
  registerList(partitions, app);
};
