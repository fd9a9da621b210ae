/** `lake partitions ...` */
import { type Registrar, examples } from '../command.js';
import { registerList } from './list.js';
import { registerSync } from './sync.js';

export const registerPartitions: Registrar = (parent, app) => {
  const partitions = parent
    .command('partitions')
    .description('register, repair and list the table\'s partitions')
    .addHelpText(
      'after',
      examples(
        ['lake partitions sync --dry-run', 'what registering the partitions found in storage would change'],
        ['lake partitions sync --prune', 'register the new partitions and drop the vanished'],
        ['lake partitions list --with-sizes', 'the registered partitions with their object counts and bytes'],
      ),
    );
  registerSync(partitions, app);
  registerList(partitions, app);
};
